"""Traditional Chinese through the emulator: who gets it, switching in /settings, and the digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.callbacks import Action, encode
from bot.delivery import enqueue_due_digests
from bot.emulator import parse_html
from bot.services import open_services
from tests.bot.botenv import USER, BotEnv
from tests.bot.delivery.test_digests import next_local
from tests.bot.handlers.test_commands import buttons, newest_id, store_file

pytestmark = pytest.mark.asyncio

TAIWAN = "zh-TW"


async def test_a_zh_tw_user_reads_help_and_summaries_in_traditional(bot_env: BotEnv) -> None:
    help_ = await bot_env.ask("/help", language=TAIWAN)
    assert "订阅每日摘要" not in (help_.text or "") and "/subscribe" in (help_.text or "")
    assert "訂閱每日摘要" in parse_html(help_.text or "")  # 订阅 → 訂閱, and the HTML still parses
    seed = await newest_id(bot_env, "荆州")
    summary = await bot_env.ask(f"/summary {seed}", language=TAIWAN)
    shown = parse_html(summary.text or "")
    assert "中共荊州市委六屆六次全體會議舉行" in shown and "荆州" not in shown
    labels = [label for label, _ in buttons(summary)]
    assert labels == ["展開 19 項部署要求", "全文", "舉報方式"]
    # The button data is ours, unchanged: it still opens the full text.
    full = dict(buttons(summary))["全文"]
    assert full == encode(Action.FULL, seed, 0)
    # A Simplified reader of the same article is not touched by it.
    plain = await bot_env.ask(f"/summary {seed}")
    assert "中共荆州市委六届六次全体会议举行" in (plain.text or "")


async def test_settings_switch_between_simplified_and_traditional(bot_env: BotEnv) -> None:
    await bot_env.ask("/subscribe 08:00")  # a zh-hans client: Simplified
    settings = await bot_env.ask("/settings")
    assert "摘要时间" in (settings.text or "")
    scripts = dict(buttons(settings))
    assert scripts["✓ 简体"] == encode(Action.SCRIPT, 0) and scripts["繁體"] == encode(Action.SCRIPT, 1)
    shown = await bot_env.press(settings, encode(Action.SCRIPT, 1))
    assert "摘要時間" in parse_html(shown.text or "") and "✓ 繁體" in dict(buttons(shown))
    # The choice is the subscriber's: it holds for the next command, whatever the client's language.
    assert "訂閱每日摘要" in ((await bot_env.ask("/help")).text or "")
    back = await bot_env.press(shown, encode(Action.SCRIPT, 0))
    assert "摘要时间" in (back.text or "") and "✓ 简体" in dict(buttons(back))
    assert "订阅每日摘要" in ((await bot_env.ask("/help", language=TAIWAN)).text or "")


async def test_a_traditional_subscribers_digest_is_traditional(bot_env: BotEnv, tmp_path: Path) -> None:
    subscribed = await bot_env.ask("/subscribe 08:00", language="zh-Hant")  # starts in Traditional
    assert "已訂閱" in (subscribed.text or "")
    page = tmp_path / "new.txt"
    page.write_text("基层干部推动经济发展\n来源：县融媒体中心\n会议强调，以后要压实责任。\n", encoding="utf-8")
    await store_file(bot_env, page)
    async with open_services(bot_env.settings) as services:
        assert await enqueue_due_digests(services.sessions, now=next_local(8, 5)) == 1
    digest = await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and "每日摘要" in (s.text or ""), timeout=10)
    shown = parse_html(digest.text or "")
    assert "基層幹部推動經濟發展" in shown and "縣融媒體中心" in shown
