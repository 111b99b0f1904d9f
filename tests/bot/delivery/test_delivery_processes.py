"""Delivery across real processes: `python -m bot run --send-only` against the Bot API emulator.

The emulator runs in this test's event loop (the subprocesses are started with asyncio, so it
keeps answering while the test waits); the database is a SQLite file or a PostgreSQL schema. A
process killed mid-broadcast loses nothing and repeats at most its window (rows claimed or sent but unrecorded); two processes
on one PostgreSQL database never send the same row; SIGTERM finishes the rows in hand and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, insert, select
from sqlalchemy import inspect as orm_inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.delivery import OutboxSender
from bot.emulator import BotAPIEmulator
from storage import (
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    Subscriber,
    SubscriberKind,
    enqueue,
    make_sessionmaker,
    outbox_tally,
    pending_count,
    subscribe,
)
from tests.bot.botenv import free_port
from tests.faults.injection import wait_until

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]  # processes, kills and faults: `-m "not slow"` skips them

TOKEN = "424242:PROCESSES"
ROOT = Path(__file__).parents[3]
# The most rows one sender holds claimed or sent but unrecorded: what a crash may send twice.
WINDOW = 2 * inspect.signature(OutboxSender).parameters["batch"].default
ANNOUNCEMENT = {"parts": [{"text": "<b>公告</b>：系统维护通知"}]}


@dataclass
class Worker:
    """A `newsbot run --send-only` process and its log."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15) -> int:
        """Signal the process and return its exit code once it is gone."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            pytest.fail(f"worker {self.pid} ignored {sig.name} for {timeout} s; its log:\n{self.output()[-3000:]}")


@dataclass
class Setup:
    emulator: BotAPIEmulator
    sessions: async_sessionmaker[AsyncSession]
    database_url: str
    tmp_path: Path
    workers: list[Worker]

    async def start(
        self, name: str, *, lease: float = 2, rate: float = 0, send_only: bool = True, webhook: bool = False
    ) -> Worker:
        """Start `python -m bot run --send-only` (or a full `run`: polling, or with `webhook` a webhook
        server on a free port) on the emulator and the database."""
        config = self.tmp_path / "newsbot.toml"
        if not config.exists():
            empty = self.tmp_path / "no-articles"
            empty.mkdir()
            # One source over an empty folder: without [[sources]] the bundled samples would be ingested.
            config.write_text(f'[[sources]]\nname = "空"\nkind = "dir"\nurl = "{empty.as_posix()}"\ninterval = 60\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {
            "NEWSBOT_CONFIG": str(config),
            "NEWSBOT_TOKEN": TOKEN,
            "NEWSBOT_WEB__LISTEN": "",  # no health server: processes beside each other would share its port
            "NEWSBOT_TELEGRAM_API_URL": self.emulator.base_url.removesuffix("/bot"),
            "NEWSBOT_DATABASE_URL": self.database_url,
            "NEWSBOT_DELIVERY__RATE": str(rate),
            "NEWSBOT_DELIVERY__LEASE": str(lease),
            "NEWSBOT_WEBHOOK_SECRET": "processes-secret",
        }
        how = ["--send-only"] if send_only else []
        if webhook:
            how += ["--webhook", f"https://bot.example/{name}", "--listen", "127.0.0.1", "--port", str(free_port())]
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", *how,
                cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        worker = Worker(process, log)
        self.workers.append(worker)
        return worker

    async def wait_until(self, condition: Callable[[], object], what: str, timeout: float = 30) -> None:
        """Poll `condition` (a function or coroutine function) until true; fail if a worker dies first."""

        def unless_a_worker_died() -> object:
            for worker in self.workers:
                if worker.process.returncode not in (None, -signal.SIGKILL, -signal.SIGTERM, 0):
                    pytest.fail(f"worker {worker.pid} exited {worker.process.returncode}:\n{worker.output()[-3000:]}")
            return condition()

        try:
            await wait_until(unless_a_worker_died, what, timeout)
        except AssertionError as timed_out:
            logs = "\n".join(f"--- worker {w.pid}:\n{w.output()[-2000:]}" for w in self.workers)
            pytest.fail(f"{timed_out}; {len(self.emulator.sent)} sent\n{logs}")

    async def running(self, workers: list[Worker]) -> None:
        """Wait until each worker says it runs."""
        await self.wait_until(
            lambda: all("newsbot is running" in w.output() for w in workers), "the processes to start", timeout=60
        )

    async def serve_and_stop(self, chat_ids: list[int], workers: list[Worker]) -> None:
        """Broadcast to the chats, wait until each got it and nothing is open, then stop the workers cleanly."""
        await self.broadcast_to(chat_ids)

        async def everyone_served() -> bool:
            return len(self.received()) >= len(chat_ids) and await self.open_rows() == 0

        await self.wait_until(everyone_served, "every chat to receive the announcement", timeout=60)
        for worker in workers:
            assert await worker.stop() == 0
            assert "Traceback" not in worker.output()

    def received(self) -> Counter[int]:
        """Return how many messages each chat received."""
        return Counter(sent.chat_id for sent in self.emulator.sent if sent.method == "sendMessage")

    async def open_rows(self) -> int:
        async with self.sessions() as session:
            return await pending_count(session=session)

    async def chats_in(self, status: OutboxStatus) -> set[int]:
        async with self.sessions() as session:
            stmt = select(OutboxRow.chat_id).where(OutboxRow.status == status)
            return set((await session.execute(stmt)).scalars())

    async def tally(self) -> dict[OutboxStatus, int]:
        async with self.sessions() as session:
            return await outbox_tally(session=session, kind=OutboxKind.ANNOUNCEMENT, key="1")

    async def broadcast_to(self, chat_ids: list[int]) -> None:
        """Subscribe the chats and enqueue one announcement for all of them."""
        async with self.sessions.begin() as session:
            # The first through subscribe(); the others copy its row (2,000 subscribe() calls take seconds).
            first = await subscribe(
                session=session, chat_id=chat_ids[0], user_id=chat_ids[0], kind=SubscriberKind.PRIVATE, language="zh"
            )
            template = {a.key: getattr(first, a.key) for a in orm_inspect(Subscriber).column_attrs if a.key != "id"}
            rest = [template | {"chat_id": c, "user_id": c} for c in chat_ids[1:]]
            if rest:
                await session.execute(insert(Subscriber), rest)
            added = await enqueue(
                session=session, kind=OutboxKind.ANNOUNCEMENT, key="1", chat_ids=chat_ids, payload=ANNOUNCEMENT
            )
        assert added == len(chat_ids)
        async with self.sessions() as session:
            active = select(func.count()).select_from(Subscriber).where(Subscriber.active.is_(True))
            assert (await session.execute(active)).scalar_one() == len(chat_ids)


@pytest_asyncio.fixture
async def setup(migrated_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Setup]:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        setup = Setup(emulator, make_sessionmaker(engine), migrated_url, tmp_path, [])
        try:
            yield setup
        finally:
            for worker in setup.workers:  # a failed test leaves none running
                if worker.process.returncode is None:
                    worker.process.kill()
                    with contextlib.suppress(ProcessLookupError):
                        await worker.process.wait()


def chats(count: int, first: int = 100_001) -> list[int]:
    return list(range(first, first + count))


def twice(received: Counter[int], chat_ids: Iterable[int]) -> list[int]:
    return sorted(c for c in chat_ids if received[c] > 1)


async def test_a_sender_killed_mid_broadcast_misses_nobody_and_repeats_at_most_its_window(setup: Setup) -> None:
    everyone = chats(2000)
    await setup.broadcast_to(everyone)
    started = time.monotonic()

    first = await setup.start("first", lease=2)
    await setup.wait_until(lambda: len(setup.received()) >= 600, "600 chats to receive the announcement")
    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    at_kill = setup.received()
    in_flight = await setup.chats_in(OutboxStatus.SENDING)  # claimed, perhaps sent, never recorded
    assert len(in_flight) <= WINDOW
    assert len(at_kill) < len(everyone), "the first sender finished before it was killed"

    second = await setup.start("second", lease=2)

    async def everyone_served() -> bool:
        return set(setup.received()) >= set(everyone) and await setup.open_rows() == 0

    await setup.wait_until(everyone_served, "every chat to receive the announcement", timeout=60)
    assert await second.stop() == 0
    assert "Traceback" not in second.output()
    elapsed = time.monotonic() - started

    received = setup.received()
    duplicates = twice(received, everyone)
    print(
        f"\nSIGKILL after {sum(at_kill.values())} messages; {len(in_flight)} rows in flight; "
        f"{len(duplicates)} chats got it twice; {elapsed:.1f} s in all"
    )
    assert set(received) == set(everyone)  # nobody missed, nobody else written to
    assert max(received.values()) <= 2
    # A second copy only for a row the killed sender held claimed: its window, at most.
    assert set(duplicates) <= in_flight
    assert len(duplicates) <= WINDOW
    assert await setup.tally() == {status: 0 for status in OutboxStatus} | {OutboxStatus.SENT: len(everyone)}
    # The claim that outlived its sender counts as an attempt.
    async with setup.sessions() as session:
        attempts = dict((await session.execute(select(OutboxRow.chat_id, OutboxRow.attempts))).tuples().all())
    assert {c for c, n in attempts.items() if n != 1} == in_flight
    assert {attempts[c] for c in in_flight} <= {2}


# PostgreSQL only (skipped with the reason when unreachable; failed under $NEWSBOT_REQUIRE_POSTGRES):
# SQLite has a single writer, so two senders there take turns rather than race.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_senders_on_one_postgresql_database_never_send_a_row_twice(setup: Setup) -> None:
    everyone = chats(1000)
    # Both poll before the broadcast exists, so each joins within its 1 s poll.
    workers = [await setup.start(name, lease=60) for name in ("one", "two")]
    await setup.running(workers)
    # A send takes a round trip, as on Telegram: the broadcast outlasts a poll, so the sender that
    # polls second finds rows left to claim (with instant sends the first could take all 1,000).
    setup.emulator.delay("sendMessage", 0.05)
    await setup.serve_and_stop(everyone, workers)

    received = setup.received()
    assert set(received) == set(everyone)
    assert twice(received, everyone) == []  # FOR UPDATE SKIP LOCKED: no row claimed by both
    async with setup.sessions() as session:
        stmt = select(OutboxRow.claimed_by, func.count()).group_by(OutboxRow.claimed_by)
        per_worker = dict((await session.execute(stmt)).tuples().all())
    print(f"\nrows sent per worker: {per_worker}")
    # claimed_by is "host:pid": each row records the process that sent it.
    assert {int(str(name).rsplit(":", 1)[1]) for name in per_worker} == {w.pid for w in workers}
    assert all(count > 0 for count in per_worker.values())
    assert sum(per_worker.values()) == len(everyone)
    assert await setup.tally() == {status: 0 for status in OutboxStatus} | {OutboxStatus.SENT: len(everyone)}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_processes_keep_one_overall_rate(setup: Setup) -> None:
    """Telegram counts the overall limit per bot: a full process and two senders share it."""
    rate, everyone = 40, chats(200)
    workers = [
        await setup.start(name, lease=60, rate=rate, send_only=name != "full") for name in ("full", "two", "three")
    ]
    await setup.running(workers)
    setup.emulator.delay("sendMessage", 0.02)  # a round trip, so each process claims rows in turn
    await setup.serve_and_stop(everyone, workers)
    times = sorted(s.at for s in setup.emulator.sent if s.method == "sendMessage")
    average = (len(times) - 1) / (times[-1] - times[0])
    peak = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    print(f"\n3 processes at {rate}/s: {average:.1f} messages/s on average, {peak} in the busiest second")
    assert average <= rate * 1.05
    assert peak <= rate + 5  # a slot is spent within its interval, or dropped: no burst
    async with setup.sessions() as session:
        stmt = select(OutboxRow.claimed_by, func.count()).group_by(OutboxRow.claimed_by)
        per_worker = dict((await session.execute(stmt)).tuples().all())
    assert len(per_worker) >= 2, per_worker  # the budget was shared, not held by one process


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_of_two_full_processes_one_runs_the_jobs_and_the_other_takes_over(setup: Setup) -> None:
    # On webhooks: two processes polling one bot would take turns at 409 Conflict, as on Telegram.
    first = await setup.start("first", send_only=False, webhook=True)
    await setup.wait_until(lambda: "leading:" in first.output(), "the first process to lead", timeout=60)
    second = await setup.start("second", send_only=False, webhook=True)
    await setup.running([second])
    await asyncio.sleep(1)
    assert "leading" not in second.output()  # one crawl: the lock is held
    await first.stop(signal.SIGKILL)  # its connection, and the lock, go with it
    killed = time.monotonic()
    await setup.wait_until(lambda: "leading:" in second.output(), "the second process to take over", timeout=30)
    print(f"\ntaken over {time.monotonic() - killed:.1f} s after the leader was killed")
    assert await second.stop() == 0
    assert "Traceback" not in second.output()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sigterm_finishes_the_rows_in_hand_and_exits_cleanly(setup: Setup) -> None:
    everyone = chats(1000)
    await setup.broadcast_to(everyone)
    setup.emulator.delay("sendMessage", 0.2)  # about 80 messages a second: the broadcast takes a while
    worker = await setup.start("terminated", lease=60)
    await setup.wait_until(lambda: len(setup.received()) >= 100, "100 chats to receive the announcement")

    signalled = time.monotonic()
    code = await worker.stop(signal.SIGTERM)
    took = time.monotonic() - signalled
    print(f"\nSIGTERM: exit {code} after {took:.2f} s, {len(setup.received())} sent")

    assert code == 0, worker.output()[-3000:]
    assert took < 10
    assert "Traceback" not in worker.output()
    received = setup.received()
    assert twice(received, everyone) == []
    assert await setup.chats_in(OutboxStatus.SENDING) == set()  # the rows in hand were finished
    assert await setup.chats_in(OutboxStatus.SENT) == set(received)  # and every message sent is recorded
    tally = await setup.tally()
    assert tally[OutboxStatus.PENDING] == len(everyone) - len(received) > 0  # the rest wait for the next start
