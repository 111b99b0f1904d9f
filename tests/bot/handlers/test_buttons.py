"""Buttons that carry their state: old messages' buttons after a restart, two searches' [更多],
summary ⇄ full text, the filter list, digest times and time zones, and following sources."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.callbacks import Action, encode
from bot.emulator import BotAPIEmulator, Sent
from bot.pipeline import ingest_targets
from bot.services import open_services
from tests.bot.botenv import TOKEN, USER, BotEnv, make_settings, running

pytestmark = pytest.mark.asyncio


def buttons(sent: Sent) -> dict[str, str]:
    """Return the callback buttons of a message: caption → data."""
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def articles(folder: Path, word: str, count: int) -> list[str]:
    """Write `count` article files about `word`, each of its own words, so none is a repost of another."""
    rng = random.Random(word)
    paths = []
    for n in range(count):
        body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(300))
        path = folder / f"{word}{n}.txt"
        path.write_text(f"{word}第{n}篇\n来源：测试\n{word}{body}。\n", encoding="utf-8")
        paths.append(str(path))
    return paths


async def test_two_searches_page_through_their_own_words_after_a_restart_too(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator)
        async with open_services(settings) as services:
            targets = articles(tmp_path, "中国", 12) + articles(tmp_path, "发展", 12)
            tally = await ingest_targets(targets, fetcher=services.fetcher, sessions=services.sessions)
            assert tally.counts["new"] == 24, tally
        async with running(settings, emulator) as env:
            china = await env.ask("/search 中国")
            growth = await env.ask("/search 发展")
            assert "中国第" in (china.text or "") and "发展第" in (growth.text or "")
            more = await env.press(china, buttons(china)["更多"], method="sendMessage")
            assert "搜索：中国" in (more.text or "") and "中国第" in (more.text or "")
            assert "发展第" not in (more.text or "")
        async with running(settings, emulator) as env:  # a new process on the same database
            again = await env.press(growth, buttons(growth)["更多"], method="sendMessage")
            assert "搜索：发展" in (again.text or "") and "发展第" in (again.text or "")
            assert "中国第" not in (again.text or "")


async def summary_of(env: BotEnv, title_part: str) -> Sent:
    listing = await env.ask("/latest 30")
    (data,) = [data for caption, data in buttons(listing).items() if title_part in caption]
    return await env.press(listing, data, method="sendMessage")


async def test_full_text_and_back_to_the_summary_on_a_one_page_article(bot_env: BotEnv) -> None:
    summary = await summary_of(bot_env, "绿色制造")
    full = await bot_env.press(summary, buttons(summary)["全文"])
    assert full.message_id == summary.message_id and "第 1/" not in (full.text or "")  # one page: no counter
    assert list(buttons(full)) == ["返回摘要"]
    back = await bot_env.press(full, buttons(full)["返回摘要"])
    assert back.message_id == summary.message_id
    assert (back.text, back.reply_markup) == (summary.text, summary.reply_markup)


async def test_full_text_pages_and_back_to_the_summary_on_a_long_article(bot_env: BotEnv, tmp_path: Path) -> None:
    paragraphs = [f"第{i}段。" + "会议强调，要把分页的正文读完。" * 15 for i in range(40)]
    page = tmp_path / "long.txt"
    page.write_text("很长的文章\n来源：测试\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")
    async with open_services(bot_env.settings) as services:
        await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)
    summary = await summary_of(bot_env, "很长的文章")
    first = await bot_env.press(summary, buttons(summary)["全文"])
    assert "第 1/" in (first.text or "") and list(buttons(first)) == ["下一页", "返回摘要"]
    second = await bot_env.press(first, buttons(first)["下一页"])
    assert "第 2/" in (second.text or "") and list(buttons(second)) == ["上一页", "下一页", "返回摘要"]
    back = await bot_env.press(second, buttons(second)["返回摘要"])
    assert back.message_id == summary.message_id
    assert (back.text, back.reply_markup) == (summary.text, summary.reply_markup)
    again = await bot_env.press(back, buttons(back)["全文"])  # the way in works again: page 1
    assert again.text == first.text


async def test_filter_lists_removes_by_button_and_clears_only_when_asked(bot_env: BotEnv) -> None:
    await bot_env.ask("/subscribe")
    assert "没有设置过滤" in ((await bot_env.ask("/filter")).text or "")
    long_word = "长" * 30  # 90 bytes: more than a button's data holds
    for word in ("流域", "-体育", long_word):
        await bot_env.ask(f"/filter {word}")
    listing = await bot_env.ask("/filter")
    assert f"流域、{long_word}、-体育" in (listing.text or "")
    assert list(buttons(listing)) == ["✕ 流域", f"✕ {long_word}", "✕ -体育"]
    older = await bot_env.ask("/filter")
    assert older.text == listing.text  # listing deletes nothing
    fewer = await bot_env.press(listing, buttons(listing)[f"✕ {long_word}"])
    assert fewer.message_id == listing.message_id and list(buttons(fewer)) == ["✕ 流域", "✕ -体育"]
    stale = await bot_env.press(older, buttons(older)[f"✕ {long_word}"], method="answerCallbackQuery")
    assert stale.text == "这个按钮已失效。"  # another list's button of the filter removed already
    fewer = await bot_env.press(fewer, buttons(fewer)["✕ -体育"])
    assert "过滤</b>：流域" in (fewer.text or "") and "体育" not in (fewer.text or "")
    assert "流域" in ((await bot_env.ask("/settings")).text or "")
    assert "已清除过滤：流域" in ((await bot_env.ask("/filter 清除")).text or "")
    assert "没有设置过滤" in ((await bot_env.ask("/filter clear")).text or "")
    assert "过滤：无" in ((await bot_env.ask("/settings")).text or "")


async def test_subscribe_offers_other_times_and_settings_show_them_as_hh_mm(bot_env: BotEnv) -> None:
    done = await bot_env.ask("/subscribe")
    assert "每天 08:00（Asia/Shanghai）" in (done.text or "")
    assert list(buttons(done)) == ["07:00", "✓ 08:00", "12:00", "18:00", "21:00"]
    later = await bot_env.press(done, buttons(done)["21:00"])
    assert later.message_id == done.message_id and "每天 21:00" in (later.text or "")
    assert "✓ 21:00" in buttons(later)
    settings = await bot_env.ask("/settings")
    assert "摘要时间：21:00（Asia/Shanghai）" in (settings.text or "") and "21:00:00" not in (settings.text or "")
    again = await bot_env.ask("/subscribe")  # subscribed already: the time chosen stays
    assert "每天 21:00" in (again.text or "")
    typed = await bot_env.ask("/subscribe 6:45")
    assert "每天 06:45" in (typed.text or "") and not buttons(typed)
    refused = await bot_env.press(done, encode(Action.DIGEST_TIME, 24 * 60), method="answerCallbackQuery", forged=True)
    assert refused.text == "这个按钮已失效。"


async def test_a_subscriber_sets_their_own_time_zone(bot_env: BotEnv) -> None:
    assert "你还没有订阅" in ((await bot_env.ask("/settings tz Europe/Berlin")).text or "")
    await bot_env.ask("/subscribe 7:30")
    picker = await bot_env.ask("/settings tz")
    assert "时区</b>：Asia/Shanghai" in (picker.text or "") and "✓ Asia/Shanghai" in buttons(picker)
    berlin = await bot_env.press(picker, buttons(picker)["Europe/Berlin"])
    assert "时区</b>：Europe/Berlin" in (berlin.text or "") and "✓ Europe/Berlin" in buttons(berlin)
    assert "摘要时间：07:30（Europe/Berlin）" in ((await bot_env.ask("/settings")).text or "")
    typed = await bot_env.ask("/settings tz america/argentina/buenos_aires")  # any IANA name, in any case
    assert "时区</b>：America/Argentina/Buenos_Aires" in (typed.text or "")
    for wrong in ("Mars/Olympus", "../../etc/passwd", "<b>"):
        reply = await bot_env.ask(f"/settings tz {wrong}")
        assert "不认识时区" in (reply.text or ""), wrong
    assert "（America/Argentina/Buenos_Aires）" in ((await bot_env.ask("/settings")).text or "")


async def test_sources_follow_and_unfollow_by_button(bot_env: BotEnv) -> None:
    listing = await bot_env.ask("/sources")
    assert "示例" in (listing.text or "") and "订阅（/subscribe）后" in (listing.text or "") and not buttons(listing)
    await bot_env.ask("/subscribe")
    listing = await bot_env.ask("/sources")
    assert list(buttons(listing)) == ["✓ 示例", "✓ 清河新闻网"]  # following none means all
    one = await bot_env.press(listing, buttons(listing)["✓ 示例"])
    assert one.message_id == listing.message_id and list(buttons(one)) == ["＋ 示例", "✓ 清河新闻网"]
    assert "来源：清河新闻网" in ((await bot_env.ask("/settings")).text or "")
    last = await bot_env.press(one, buttons(one)["✓ 清河新闻网"], method="answerCallbackQuery")
    assert last.text == "至少要关注一个来源。"
    both = await bot_env.press(one, buttons(one)["＋ 示例"])
    assert list(buttons(both)) == ["✓ 示例", "✓ 清河新闻网"]
    assert "来源：全部" in ((await bot_env.ask("/settings")).text or "")


async def test_in_a_group_anyone_lists_the_sources_and_only_admins_change_them(bot_env: BotEnv) -> None:
    group, owner = -4002, 5001
    bot_env.emulator.set_member(group, owner, "creator")
    done = await bot_env.ask("/subscribe", user=owner, chat=group)
    listing = await bot_env.ask("/sources", user=USER, chat=group)
    assert list(buttons(listing)) == ["✓ 示例", "✓ 清河新闻网"]
    for sent, data in ((listing, buttons(listing)["✓ 示例"]), (done, buttons(done)["21:00"])):
        alert = await bot_env.press(sent, data, method="answerCallbackQuery")
        assert alert.text == "群组的订阅只能由群管理员设置。"
    assert "✓ 08:00" in buttons(await bot_env.ask("/subscribe", user=owner, chat=group))
    changed = await bot_env.press(listing, buttons(listing)["✓ 示例"], user=owner)
    assert list(buttons(changed)) == ["＋ 示例", "✓ 清河新闻网"]
