"""Daily digests at a subscriber's time, with a frozen clock: once a day, filters applied."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import enqueue_due_digests
from bot.pipeline import ingest_targets
from bot.services import open_services
from tests.bot.botenv import ADMIN, TOKEN, USER, BotEnv

pytestmark = pytest.mark.asyncio

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_local(hour: int, minute: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Return the next moment it is hour:minute in `zone`, an hour away at least, as UTC: the test's
    subscriptions and articles (made on the real clock) all come before it and the ten minutes before."""
    now = datetime.now(zone)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= now + timedelta(hours=1):
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


async def test_digest_arrives_once_at_the_subscribers_time(bot_env: BotEnv, tmp_path: Path) -> None:
    await bot_env.ask("/subscribe 08:00")
    await bot_env.ask("/subscribe 08:00", user=5001)
    assert "已添加过滤" in ((await bot_env.ask("/filter -防汛", user=5001)).text or "")
    page = tmp_path / "flood.txt"
    page.write_text("县里召开防汛工作会议\n来源：县融媒体中心\n会议强调，要压实防汛责任。\n", encoding="utf-8")
    async with open_services(bot_env.settings) as services:
        await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)
        at = next_local(8, 5)
        assert await enqueue_due_digests(services.sessions, now=at - timedelta(minutes=10)) == 0  # 07:55: not yet
        # Two schedulers at 08:05 (or a restart): one digest.
        first, second = await asyncio.gather(
            enqueue_due_digests(services.sessions, now=at), enqueue_due_digests(services.sessions, now=at)
        )
        assert first + second == 1
        assert await enqueue_due_digests(services.sessions, now=at + timedelta(hours=3)) == 0  # same day
    digest = await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and "每日摘要" in (s.text or ""), timeout=10)
    text = digest.text or ""
    assert f"每日摘要 · {at.astimezone(SHANGHAI):%Y-%m-%d}" in text
    # Grouped by the configured source (files named on the command line), the page's outlet beside the title.
    assert "【命令行】" in text and "县里召开防汛工作会议" in text and "（县融媒体中心）" in text
    assert re.search(r"县里召开防汛工作会议</b> <i>（县融媒体中心）</i> /a\d+\n", text)  # a command to tap
    assert "要压实防汛责任" in text  # a key sentence
    await asyncio.sleep(1.5)  # the sender polls every second: nothing else may arrive
    assert [s for s in bot_env.emulator.messages_to(USER) if "每日摘要" in (s.text or "")] == [digest]
    # The other subscriber filtered the only new article out: no digest, and none sent empty.
    assert not [s for s in bot_env.emulator.messages_to(5001) if "每日摘要" in (s.text or "")]


async def test_a_time_zone_of_ones_own(bot_env: BotEnv, tmp_path: Path) -> None:
    from storage import update_subscriber

    await bot_env.ask("/subscribe 07:00")
    async with open_services(bot_env.settings) as services:
        async with services.sessions.begin() as session:
            await update_subscriber(session=session, chat_id=USER, timezone="Europe/Berlin")
        page = tmp_path / "a.txt"
        page.write_text("一则新闻\n来源：测试\n今天天气很好。\n", encoding="utf-8")
        await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)
        berlin = ZoneInfo("Europe/Berlin")
        at = next_local(7, 1, berlin)
        assert await enqueue_due_digests(services.sessions, now=at - timedelta(minutes=2)) == 0
        assert await enqueue_due_digests(services.sessions, now=at) == 1


class StoreBeforeWrite:
    """Sessions that store one article just before the first write transaction: an ingest run
    committing while a batch of digests is rendered on its read."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: Callable[[], Awaitable[object]]) -> None:
        self.sessions = sessions
        self.store: Callable[[], Awaitable[object]] | None = store

    def __call__(self) -> AsyncSession:
        return self.sessions()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self.store is not None:
            store, self.store = self.store, None
            await store()
        async with self.sessions.begin() as session:
            yield session


async def test_an_article_stored_while_digests_are_rendered_is_in_them(bot_env: BotEnv, tmp_path: Path) -> None:
    await bot_env.ask("/subscribe 08:00")
    page = tmp_path / "late.txt"
    page.write_text("渲染期间入库的新闻\n来源：县融媒体中心\n会议强调，要抓好落实。\n", encoding="utf-8")
    async with open_services(bot_env.settings) as services:

        async def store() -> object:
            return await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)

        sessions = cast(async_sessionmaker[AsyncSession], StoreBeforeWrite(services.sessions, store))
        assert await enqueue_due_digests(sessions, now=next_local(8, 5)) == 1
    digest = await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and "每日摘要" in (s.text or ""), timeout=10)
    assert "渲染期间入库的新闻" in (digest.text or "")  # read again under the write lock, not missed


async def test_articles_beyond_the_digest_size_wait_for_the_next_digest(bot_env: BotEnv, tmp_path: Path) -> None:
    from storage import update_subscriber

    await bot_env.ask("/subscribe 08:00")
    pages = []
    for n in range(3):
        page = tmp_path / f"{n}.txt"
        page.write_text(f"第{n}号新闻标题\n来源：县融媒体中心\n第{n}号新闻的内容很重要。\n", encoding="utf-8")
        pages.append(str(page))
    async with open_services(bot_env.settings) as services:
        async with services.sessions.begin() as session:
            await update_subscriber(session=session, chat_id=USER, digest_size=2)
        await ingest_targets(pages, fetcher=services.fetcher, sessions=services.sessions)
        at = next_local(8, 5)
        assert await enqueue_due_digests(services.sessions, now=at) == 1
        first = await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and "每日摘要" in (s.text or ""))
        text = first.text or ""
        assert "第0号新闻标题" in text and "第1号新闻标题" in text and "第2号新闻标题" not in text  # first stored first
        assert text.rstrip().endswith("还有 1 篇，将在下一期摘要中送达。</i>")
        (button,) = [b for row in (first.reply_markup or {})["inline_keyboard"] for b in row]
        # The button shows the rest now, without taking it from the next digest.
        rest = await bot_env.press(first, button["callback_data"], method="sendMessage")
        assert "下一期摘要" in (rest.text or "") and "第2号新闻标题" in (rest.text or "")
        assert "第0号新闻标题" not in (rest.text or "") and rest.reply_markup is None
        assert await enqueue_due_digests(services.sessions, now=at + timedelta(days=1)) == 1
    second = await bot_env.emulator.wait_for(
        lambda s: s.chat_id == USER and s is not first and "每日摘要" in (s.text or ""), timeout=10
    )
    assert "第2号新闻标题" in (second.text or "") and "第0号新闻标题" not in (second.text or "")
    assert "还有" not in (second.text or "") and second.reply_markup is None


async def test_a_channel_post_links_to_the_article_in_the_bot(bot_env: BotEnv, tmp_path: Path) -> None:
    channel = -(10**12) - 77
    bot_env.emulator.add_chat(channel, type="channel", title="清河新闻", username="qinghe_news")
    bot_env.emulator.set_member(channel, int(TOKEN.split(":")[0]), "administrator")
    assert "已绑定频道" in ((await bot_env.ask("/channel @qinghe_news", user=ADMIN)).text or "")
    page = tmp_path / "post.txt"
    page.write_text("频道发布的新闻\n来源：县融媒体中心\n会议强调，要抓好落实。\n", encoding="utf-8")
    async with open_services(bot_env.settings) as services:
        await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)
    post = await bot_env.emulator.wait_for(lambda s: s.chat_id == channel and "频道发布的新闻" in (s.text or ""))
    ((button,),) = (post.reply_markup or {})["inline_keyboard"]
    link = re.fullmatch(r"https://t\.me/newsbot_test_bot\?start=(a\d+)", button["url"])
    assert link and button["text"] == "在机器人中查看摘要"
    opened = await bot_env.ask(f"/start {link[1]}")  # what the link sends
    assert "频道发布的新闻" in (opened.text or "")
