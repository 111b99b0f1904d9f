"""SIGKILL at many points of ingest and of broadcast, then a restart.

Each test runs the real command (`python -m bot ingest`, `python -m bot run --send-only`) in a
child process against a SQLite file, kills its whole process group at a counted event, checks
the file, and starts it again, once per kill point; a last run finishes the work. Events are
counted where the test can see them: page requests at the local news site (the kill lands as a
page is asked for, or a few milliseconds after it was answered: while it is parsed, summarised or
stored), and sendMessage calls at the Bot API emulator.

After every kill: no article half-stored (see check_whole), no outbox row lost. At the end:
every article stored once with one channel post each; every chat got every message, a second
copy only of a row the killed sender held (its in-flight window: claimed, or sent and not yet
recorded; two batches at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.emulator import BotAPIEmulator
from storage import OutboxRow, OutboxStatus
from tests.faults.injection import (
    BATCH,
    WINDOW,
    NewsSite,
    at_sends,
    bind_test_channel,
    chats,
    check_whole,
    database,
    enqueue_broadcasts,
    open_rows,
    repeats,
    rows_by_status,
    wait_until,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]  # processes, kills and faults: `-m "not slow"` skips them

ROOT = Path(__file__).parents[2]
# Seconds before a killed sender's claimed rows are claimed again; longer than a batch takes to
# send, or a live sender would take its own rows for a dead one's.
LEASE = 2.0


@dataclass
class Child:
    """A `python -m bot …` process in a process group of its own (its summariser workers too)."""

    process: asyncio.subprocess.Process
    log: Path

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Runner:
    """Starts the command against one database and config, and cleans up after it."""

    tmp_path: Path
    env: dict[str, str]
    children: list[Child] = field(default_factory=list)

    async def start(self, *args: str) -> Child:
        log = self.tmp_path / f"run-{len(self.children)}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, cwd=ROOT, env=self.env, start_new_session=True,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        child = Child(process, log)
        self.children.append(child)
        return child

    async def killed(self, child: Child, timeout: float = 30) -> None:
        """Wait for `child` to die of the SIGKILL its kill point sends."""
        try:
            code = await asyncio.wait_for(child.process.wait(), timeout)
        except TimeoutError:
            pytest.fail(f"the kill point was never reached; the log:\n{child.output()[-3000:]}")
        assert code == -signal.SIGKILL, f"exited {code} before its kill point:\n{child.output()[-3000:]}"


@pytest_asyncio.fixture
async def runner(tmp_path: Path) -> AsyncIterator[Runner]:
    url = f"sqlite:///{tmp_path / 'newsbot.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {
        "NEWSBOT_CONFIG": str(tmp_path / "newsbot.toml"),
        "NEWSBOT_DATABASE_URL": url,
        "NEWSBOT_FETCH__DELAY": "0",
        "NEWSBOT_FETCH__RETRIES": "0",
    }
    runner = Runner(tmp_path, env)
    try:
        yield runner
    finally:
        for child in runner.children:  # a failed test leaves none running
            child.kill()
            await child.process.wait()


# ---- ingest ------------------------------------------------------------------------------------

# (n, delay): kill as the n-th page request of the run arrives, or `delay` seconds after it was
# answered. A run asks again for the pages stored before (a 304 each), so n grows from kill to kill.
INGEST_KILLS = [(1, 0.0), (3, 0.01), (5, 0.0), (7, 0.04), (10, 0.0), (11, 0.1)]


async def test_ingest_killed_anywhere_leaves_no_article_half_stored(
    runner: Runner, news_site: NewsSite, tmp_path: Path
) -> None:
    (tmp_path / "newsbot.toml").write_text(news_site.config(), encoding="utf-8")
    async with database(runner.env["NEWSBOT_DATABASE_URL"]) as sessions:
        await bind_test_channel(sessions)
    stored_after: list[int] = []
    for n, delay in INGEST_KILLS:
        news_site.served.clear()
        child = await runner.start("ingest")

        def kill_point(count: int, n: int = n, delay: float = delay, child: Child = child) -> None:
            if count == n:
                asyncio.get_running_loop().call_later(delay, child.kill)

        news_site.on_page = kill_point
        await runner.killed(child)
        news_site.on_page = None
        async with database(runner.env["NEWSBOT_DATABASE_URL"]) as sessions:
            stored_after.append(len((await check_whole(sessions)).articles))

    child = await runner.start("ingest")
    assert await asyncio.wait_for(child.process.wait(), 60) == 0, child.output()[-3000:]
    async with database(runner.env["NEWSBOT_DATABASE_URL"]) as sessions:
        stored = await check_whole(sessions)
    print(
        f"\nkilled at {INGEST_KILLS}: articles stored whole after each kill {stored_after}, then {len(stored.articles)}"
    )
    assert set(stored.articles) == news_site.urls()
    assert stored.channel_posts == Counter({str(i): 1 for i in stored.articles.values()})
    assert stored_after == sorted(stored_after)  # a kill never undoes a stored article


# ---- broadcast ---------------------------------------------------------------------------------

CHATS = 60
ROWS = 2 * CHATS  # a two-part digest and an announcement each
# Kill after the k-th sendMessage since the (re)start: the first part of a digest, its second, a
# batch boundary, deep into a batch.
BROADCAST_KILLS = [1, 2, 7, BATCH, BATCH + 1, 2 * BATCH - 3]


async def test_a_sender_killed_anywhere_loses_nothing_and_repeats_only_its_window(
    runner: Runner, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    # One source over an empty folder: without [[sources]] the bundled samples would be ingested.
    empty = tmp_path / "no-articles"
    empty.mkdir()
    (tmp_path / "newsbot.toml").write_text(
        f'[[sources]]\nname = "空"\nkind = "dir"\nurl = "{empty.as_posix()}"\ninterval = 60\n', encoding="utf-8"
    )
    runner.env |= {
        "NEWSBOT_TOKEN": emulator.token,
        "NEWSBOT_WEB__LISTEN": "",  # no health server: processes beside each other would share its port
        "NEWSBOT_TELEGRAM_API_URL": emulator.base_url.removesuffix("/bot"),
        "NEWSBOT_DELIVERY__RATE": "0",
        "NEWSBOT_DELIVERY__LEASE": str(LEASE),
    }
    everyone = chats(CHATS)
    async with database(runner.env["NEWSBOT_DATABASE_URL"]) as sessions:
        assert await enqueue_broadcasts(sessions, everyone) == ROWS
        in_flight: list[set[int]] = []
        for k in BROADCAST_KILLS:
            child = await runner.start("run", "--send-only")

            async def kill(child: Child = child) -> None:
                child.kill()

            with at_sends(emulator, {k: kill}):
                await runner.killed(child)
            # Claimed by the killed process, perhaps sent, never recorded: what a later run may send again.
            in_flight.append(await _claimed_by(sessions, child.process.pid))
            statuses = await rows_by_status(sessions)
            assert sum(statuses.values()) == ROWS  # no row lost
            assert set(statuses) <= {OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT}  # none given up

        child = await runner.start("run", "--send-only")
        await wait_until(lambda: _settled(sessions), "every row to be sent", timeout=30)
        child.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(child.process.wait(), 15) == 0
        assert "Traceback" not in child.output()

        extra = repeats(emulator, everyone)
        print(
            f"\nkilled after {BROADCAST_KILLS} sends: rows in flight at each kill "
            f"{[len(rows) for rows in in_flight]}; {sum(extra.values())} messages to {len(extra)} chats sent twice"
        )
        assert await rows_by_status(sessions) == {OutboxStatus.SENT: ROWS}
        assert set(extra) <= set().union(*in_flight)
        assert all(len(rows) <= WINDOW for rows in in_flight)
        assert max(extra.values(), default=0) <= len(in_flight)


async def _claimed_by(sessions: async_sessionmaker[AsyncSession], pid: int) -> set[int]:
    """Return the chats of the rows a sender process holds claimed (claimed_by is "host:pid")."""
    async with sessions() as session:
        stmt = select(OutboxRow.chat_id, OutboxRow.claimed_by).where(OutboxRow.status == OutboxStatus.SENDING)
        return {chat_id for chat_id, worker in await session.execute(stmt) if str(worker).endswith(f":{pid}")}


async def _settled(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return await open_rows(sessions) == 0
