"""Kept replies (`bot.cache.ReplyCache`): one database read for a burst of the same command, a new
article shown at once when this process stores it, and within `reply_cache` seconds when another
process does."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.cache import ReplyCache
from bot.config import SourceSettings
from bot.emulator import BotAPIEmulator, Sent
from bot.services import open_services
from bot.texts import t
from ingest import SourceKind
from tests.bot.botenv import ADMIN, TOKEN, make_settings, running

pytestmark = pytest.mark.asyncio

SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples"


# ── the cache on its own ──────────────────────────────────────────────────────────────────


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_callers_arriving_while_a_value_is_made_share_the_making() -> None:
    cache = ReplyCache(5)
    calls = 0
    gate = asyncio.Event()

    async def make() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "值"

    waiting = [asyncio.create_task(cache.get("k", make)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == ["值"] * 50
    assert calls == 1


async def test_a_value_is_kept_for_its_seconds_then_made_again() -> None:
    clock = Clock()
    cache = ReplyCache(5, clock=clock)
    made = iter(range(100))

    async def make() -> int:
        return next(made)

    assert await cache.get("k", make) == 0
    clock.now += 4.9
    assert await cache.get("k", make) == 0
    assert await cache.get("other", make) == 1  # keys are apart
    clock.now += 0.2
    assert await cache.get("k", make) == 2


async def test_clear_forgets_and_zero_seconds_keeps_nothing() -> None:
    cache = ReplyCache(60)
    made = iter(range(100))

    async def make() -> int:
        return next(made)

    assert await cache.get("k", make) == 0
    cache.clear()
    assert await cache.get("k", make) == 1
    off = ReplyCache(0)
    assert [await off.get("k", make) for _ in range(3)] == [2, 3, 4]
    assert len(off) == 0


async def test_a_failed_making_reaches_every_caller_and_is_not_kept() -> None:
    cache = ReplyCache(60)
    gate = asyncio.Event()
    attempts = 0

    async def make() -> str:
        nonlocal attempts
        attempts += 1
        await gate.wait()
        if attempts == 1:
            raise ConnectionError("数据库不可用")
        return "好了"

    waiting = [asyncio.create_task(cache.get("k", make)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await cache.get("k", make) == "好了"
    assert attempts == 2


async def test_a_cancelled_caller_does_not_cancel_the_making_others_await() -> None:
    cache = ReplyCache(60)
    gate = asyncio.Event()

    async def make() -> str:
        await gate.wait()
        return "值"

    first = asyncio.create_task(cache.get("k", make))
    second = asyncio.create_task(cache.get("k", make))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == "值"
    assert first.cancelled()


async def test_clear_during_a_making_hands_it_to_its_callers_but_keeps_it_not() -> None:
    cache = ReplyCache(60)
    gate = asyncio.Event()
    made = iter(["旧", "新"])

    async def make() -> str:
        value = next(made)
        if value == "旧":
            await gate.wait()
        return value

    early = asyncio.create_task(cache.get("k", make))
    await asyncio.sleep(0)
    cache.clear()  # an article was stored while the old listing was being read
    gate.set()
    assert await early == "旧"
    assert await cache.get("k", make) == "新"


async def test_the_number_of_kept_values_is_bounded() -> None:
    clock = Clock()
    cache = ReplyCache(60, clock=clock)

    async def make() -> str:
        return "页"

    for offset in range(5000):  # a crawl through every page of /latest
        await cache.get(("latest", "zh", 10, offset), make)
    assert 0 < len(cache) <= 512


# ── through the bot ───────────────────────────────────────────────────────────────────────


@contextmanager
def article_reads() -> Iterator[list[str]]:
    """Collect every statement any engine of this process runs on articles and their summaries."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM articles" in statement or "FROM summaries" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def replies_to(emulator: BotAPIEmulator, texts: list[tuple[int, str]]) -> dict[int, list[str]]:
    """Send every (user, text) at once; return each user's replies once all have come."""
    got: dict[int, list[str]] = {user: [] for user, _ in texts}
    with emulator.watch() as queue:
        for user, text in texts:
            emulator.send_text(user, text)
        async with asyncio.timeout(20):
            while sum(map(len, got.values())) < len(texts):
                record: Sent = await queue.get()
                if record.method == "sendMessage" and record.chat_id in got:
                    got[record.chat_id].append(record.text or "")
    return got


def folder_source(folder: Path) -> SourceSettings:
    return SourceSettings(name="本地", kind=SourceKind.DIR, url=str(folder))


async def test_a_burst_of_the_front_page_reads_the_database_once(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator)
        async with open_services(settings) as services:
            await services.ingest(services.sources[0])
        async with running(settings, emulator):
            users = range(700_000, 700_100)
            with article_reads() as reads:
                got = await replies_to(emulator, [(u, c) for u in users for c in ("/latest", "/summary")])
    # Everyone got the same two answers, the listing and the newest article's summary.
    answers = {frozenset(texts) for texts in got.values()}
    assert len(answers) == 1
    assert len(next(iter(answers))) == 2
    # /latest reads articles and their summaries (2 statements), /summary the same: 4 in all, not 400.
    assert len(reads) == 4, reads


async def test_an_article_this_process_stores_shows_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator, reply_cache=3600)
        settings = settings.model_copy(update={"sources": [folder_source(folder)]})
        async with running(settings, emulator) as env:
            # Kept for an hour: nothing yet.
            assert (await env.ask("/latest")).text == t("zh", "no_articles")
            assert "没有找到" in ((await env.ask("/search 荆州")).text or "")
            shutil.copy(SAMPLES / "tibet-2022-02-13.html", folder)
            await env.ask("/ingest 本地", user=ADMIN, timeout=20)
            one = (await env.ask("/latest")).text or ""
            assert "厕所革命" in one
            shutil.copy(SAMPLES / "jingzhou-2023-07-13.txt", folder)
            await env.ask("/ingest 本地", user=ADMIN, timeout=20)
            two = (await env.ask("/latest")).text or ""
            assert "荆州" in two and "厕所革命" in two
            assert "荆州" in ((await env.ask("/search 荆州")).text or "")


async def test_an_article_another_process_stores_shows_within_the_seconds(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(SAMPLES / "tibet-2022-02-13.html", folder)
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator, reply_cache=1.0)
        settings = settings.model_copy(update={"sources": [folder_source(folder)]})
        async with open_services(settings) as services:
            await services.ingest(services.sources[0])
        async with running(settings, emulator) as env:
            before = (await env.ask("/summary")).text or ""
            shutil.copy(SAMPLES / "jingzhou-2023-07-13.txt", folder)  # newer than the one shown
            # Another process (here: services of their own on the same file) stores it.
            async with open_services(settings) as other:
                assert (await other.ingest(other.sources[0])).counts["new"] == 1
            assert (await env.ask("/summary")).text == before  # still kept: this process did not store it
            await asyncio.sleep(1.1)
            after = (await env.ask("/summary")).text or ""
            assert after != before and "荆州" in after
