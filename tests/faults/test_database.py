"""Database faults: a SQLite file locked by another writer or on a full disk, and PostgreSQL
connections cut by the server mid-ingest and mid-broadcast.

The SQLite faults are real: another connection holds BEGIN EXCLUSIVE past the busy timeout (set to
BUSY_TIMEOUT through the URL), and the full disk is a 16 MB tmpfs filled by another file (the test
is skipped, with the reason, where mounting is not permitted; CI runs as root). For each, a user
gets a short apology instead of silence, an ingest run stops at once and a later run stores what
it missed, and the outbox loses nothing. PostgreSQL is not restarted (the server is shared): the
bot's own connections are terminated with pg_terminate_backend, which is what a restart does to
them, and the pool must recover.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import run_bot
from bot.emulator import BotAPIEmulator
from bot.pipeline import ingest_source
from bot.services import open_services
from bot.texts import t
from ingest import FetchConfig, Fetcher
from storage import (
    DatabaseUnavailable,
    OutboxStatus,
    get_subscriber,
    upgrade,
)
from tests.bot.botenv import TOKEN as BOT_TOKEN
from tests.bot.botenv import USER, BotEnv, make_settings
from tests.emulated import telegram_bot
from tests.faults.injection import (
    BATCH,
    BUSY_TIMEOUT,
    EXPECTED,
    NewsSite,
    SQLiteFault,
    at_sends,
    bind_test_channel,
    chats,
    chats_in,
    check_whole,
    cut_connections,
    database,
    enqueue_broadcasts,
    make_sender,
    open_rows,
    received,
    repeats,
    rows_by_status,
    sending,
    wait_until,
    with_application_name,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]  # processes, kills and faults: `-m "not slow"` skips them

ROOT = Path(__file__).parents[2]
FAST = FetchConfig(connect_timeout=1, read_timeout=2, total_timeout=5, retries=0, delay=0, trust_env=False)
SORRY = t("zh", "sorry")


@pytest_asyncio.fixture
async def fetcher(news_site: NewsSite) -> AsyncIterator[Fetcher]:
    async with Fetcher(FAST, allow_private=[news_site.base]) as fetcher:
        yield fetcher


@pytest_asyncio.fixture
async def bot_under_fault(sqlite_fault: tuple[str, SQLiteFault]) -> AsyncIterator[tuple[BotEnv, SQLiteFault]]:
    """Yield the whole bot (run_bot, polling the emulator) on the faulty file, samples ingested."""
    url, fault = sqlite_fault
    async with BotAPIEmulator(token=BOT_TOKEN) as emulator:
        settings = make_settings(url, emulator)
        async with open_services(settings) as services:
            assert (await services.ingest(services.sources[0])).counts["new"] >= 5
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop=stop, schedule=False))
        # Polling starts right after deleteWebhook; a command sent before would wait for it.
        await wait_until(lambda: any(r.method == "deleteWebhook" for r in emulator.http_log), "polling to start")
        try:
            yield BotEnv(emulator, settings), fault
        finally:
            await fault.stop()
            stop.set()
            await asyncio.wait_for(task, timeout=10)


async def test_a_user_gets_a_short_apology_while_the_database_is_out(
    bot_under_fault: tuple[BotEnv, SQLiteFault],
) -> None:
    env, fault = bot_under_fault
    latest = await env.ask("/latest")
    assert latest.text != SORRY

    await fault.start()
    try:
        started = time.monotonic()
        subscribing = await env.ask("/subscribe")
        took = time.monotonic() - started
        reading = await env.ask("/latest")
    finally:
        await fault.stop()
    print(f"\n{fault.name}: the apology came after {took:.2f} s")

    # A write cannot happen: the user hears so at once, in Chinese, without the details.
    assert subscribing.text == SORRY == "抱歉，出了点问题，请稍后再试。"
    assert took < BUSY_TIMEOUT + 3
    # Reads never wait for a writer (a deferred BEGIN under WAL): a locked file or a full disk
    # still answers /latest.
    assert reading.text == latest.text
    # Once the fault is gone the same commands work, and nothing of the failed one was kept.
    async with open_services(env.settings) as services, services.sessions() as session:
        assert await get_subscriber(session=session, chat_id=USER) is None
    assert (await env.ask("/subscribe")).text != SORRY
    assert (await env.ask("/latest")).text == latest.text
    async with open_services(env.settings) as services, services.sessions() as session:
        subscriber = await get_subscriber(session=session, chat_id=USER)
        assert subscriber is not None and subscriber.active


async def test_ingest_stops_at_the_fault_and_the_next_run_stores_the_rest(
    sqlite_fault: tuple[str, SQLiteFault], news_site: NewsSite, fetcher: Fetcher
) -> None:
    url, fault = sqlite_fault
    async with database(url) as sessions:
        await bind_test_channel(sessions)

        faulted = asyncio.Event()

        async def fault_at_the_fifth_page(n: int) -> None:
            if n == 5:
                try:
                    await fault.start()
                finally:
                    faulted.set()
            elif n > 5:
                # Articles are fetched several at once: no later page is served (and stored)
                # before the fault is in place.
                await faulted.wait()

        news_site.count = 20
        news_site.on_page = fault_at_the_fifth_page
        started = time.monotonic()
        try:
            with pytest.raises(DatabaseUnavailable, match=r"locked|full|disk I/O"):
                await ingest_source(news_site.source(), fetcher=fetcher, sessions=sessions)
        finally:
            news_site.on_page = None  # a request still on its way must not start the fault again
            await fault.stop()
        took, served = time.monotonic() - started, len(news_site.served)
        # It stopped at the fault (the articles in flight, each tried once more on a fresh
        # connection), not after waiting out the busy timeout, or failing, for every page left.
        assert served <= 14
        assert took < 8 * BUSY_TIMEOUT
        before = len((await check_whole(sessions)).articles)
        assert before < 5

        tally = await ingest_source(news_site.source(), fetcher=fetcher, sessions=sessions)
        # What the first run stored answers 304 Not Modified; the rest is new.
        assert +tally.counts == +Counter(unchanged=before, new=20 - before)
        stored = await check_whole(sessions)
        assert set(stored.articles) == news_site.urls()
    print(f"\n{fault.name}: the run stopped after {took:.2f} s and {served} of 20 pages; {before} stored whole")


@pytest.mark.parametrize("sqlite_fault", ["locked"], indirect=True)
async def test_the_ingest_command_says_so_in_one_line(sqlite_fault: tuple[str, SQLiteFault], tmp_path: Path) -> None:
    url, fault = sqlite_fault
    await asyncio.to_thread(upgrade, url)
    await fault.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {"NEWSBOT_DATABASE_URL": url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "ingest", str(ROOT / "ingest" / "samples" / "jingzhou-2023-07-13.txt"),
            cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        await fault.stop()
    error = err.decode()
    assert process.returncode == 1
    assert "Traceback" not in error
    [line] = error.strip().splitlines()
    assert line.startswith("newsbot: cannot use sqlite+aiosqlite:///")
    assert line.endswith("database is locked")


async def test_the_outbox_loses_nothing_while_the_database_is_out(
    sqlite_fault: tuple[str, SQLiteFault], emulator: BotAPIEmulator
) -> None:
    url, fault = sqlite_fault
    everyone = chats(40)
    async with database(url) as sessions, telegram_bot(emulator) as bot:
        assert await enqueue_broadcasts(sessions, everyone) == 80
        # One send at a time, as run_bot has it on SQLite; the lease outlasts the outage.
        sender = make_sender(
            bot, sessions, concurrency=1, lease=timedelta(seconds=4), backoff=timedelta(milliseconds=20)
        )
        in_hand: list[set[int]] = []

        async def out_for_a_while() -> None:
            in_hand.append(await chats_in(sessions, OutboxStatus.SENDING))
            await fault.start()
            await asyncio.sleep(2 * BUSY_TIMEOUT)
            await fault.stop()

        # 30 of the 120 messages out, then the database is out for 3 s while sends go on.
        with at_sends(emulator, {30: out_for_a_while}):
            async with sending(sender):
                await wait_until(lambda: len(in_hand) == 1, "the fault", timeout=10)
                await wait_until(
                    lambda: _all_done(sessions, emulator, len(everyone) * len(EXPECTED)), "everything sent", timeout=20
                )
        extra = repeats(emulator, everyone)
        # A second copy only of what was in hand when the fault struck: at most a batch.
        assert set(extra) <= in_hand[0]
        assert sum(extra.values()) <= BATCH
        assert await rows_by_status(sessions) == {OutboxStatus.SENT: 80}
    print(f"\n{fault.name}: {sum(received(emulator).values())} messages, {sum(extra.values())} sent twice")


async def _all_done(sessions: async_sessionmaker[AsyncSession], emulator: BotAPIEmulator, messages: int) -> bool:
    return sum(received(emulator).values()) >= messages and await open_rows(sessions) == 0


# ---- PostgreSQL: the server drops the bot's connections ---------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_connections_cut_mid_ingest_cost_nothing(
    migrated_url: str, news_site: NewsSite, fetcher: Fetcher
) -> None:
    url, name = with_application_name(migrated_url)
    cuts: list[list[str]] = []

    async def cut_in_a_transaction() -> None:
        # Right after the page is answered the run opens its store transaction: cut it there.
        async with asyncio.timeout(5):
            while not (cut := await cut_connections(name, in_transaction=True)):
                await asyncio.sleep(0.001)
        cuts.append(cut)

    background: set[asyncio.Task[None]] = set()

    async def cut(n: int) -> None:
        # Two restarts far enough apart that an article's second try never meets the second one.
        if n == 3:
            cuts.append(await cut_connections(name))  # every connection: idle in the pool or in use
        elif n == 12:
            background.add(asyncio.create_task(cut_in_a_transaction()))

    async with database(url) as sessions:
        await bind_test_channel(sessions)
        news_site.count = 20
        news_site.on_page = cut
        tally = await ingest_source(news_site.source(), fetcher=fetcher, sessions=sessions)
        await asyncio.gather(*background)
        stored = await check_whole(sessions)
    print(f"\ncut: {cuts}; tally {dict(tally.counts)}")
    assert len(cuts) == 2 and all(cuts)
    assert tally.counts["failed"] == 0
    # The article whose transaction was cut is stored by the second try (or, if the cut came
    # after the commit, found unchanged by it): each exactly once, whole.
    assert tally.counts["new"] + tally.counts["unchanged"] == len(news_site.urls())
    assert set(stored.articles) == news_site.urls()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_connections_cut_mid_broadcast_lose_nothing(
    migrated_url: str, emulator: BotAPIEmulator
) -> None:
    url, name = with_application_name(migrated_url)
    everyone = chats(100)
    async with database(url) as sessions, telegram_bot(emulator) as bot:
        assert await enqueue_broadcasts(sessions, everyone) == 200
        sender = make_sender(bot, sessions, lease=timedelta(seconds=1), backoff=timedelta(milliseconds=20))

        async def cut() -> list[str]:
            return await cut_connections(name)

        with at_sends(emulator, {60: cut, 150: cut, 240: cut}) as cuts:
            async with sending(sender):
                await wait_until(
                    lambda: _all_done(sessions, emulator, len(everyone) * len(EXPECTED)), "everything sent", timeout=30
                )
        extra = repeats(emulator, everyone)
        print(f"\n{len(cuts)} cuts of {[len(c) for c in cuts]} connections; {sum(extra.values())} sent twice")
        assert len(cuts) == 3 and all(cuts)
        assert sum(extra.values()) <= len(cuts) * BATCH  # at most the rows in hand at each cut
        assert await rows_by_status(sessions) == {OutboxStatus.SENT: 200}
