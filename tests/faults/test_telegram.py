"""Telegram-side faults through the emulator: stalls past PTB's read timeout, connection resets,
502s for a stretch, 429 storms. The sender backs off and catches up; every digest part and
announcement arrives late but exactly once per chat (counted in the emulator's records).

Time is compressed SCALE times: the sender's backoff is its default 2 s / SCALE, so an outage of
`real(60)` stands for a minute of trouble. PTB's read timeout is its default 5 s / 10 only: the
emulator shares the test's event loop, and an answer that took longer than the read timeout would
be a lost answer (the message is there, the sender sends it again). A 429's retry_after is whole
seconds on the wire and is not compressed.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.delivery import OUTAGE_CHATS, OutboxSender
from bot.emulator import BotAPIEmulator
from storage import OutboxRow, OutboxStatus
from tests.emulated import telegram_bot
from tests.faults.injection import (
    EXPECTED,
    at_sends,
    chats,
    database,
    enqueue_broadcasts,
    make_sender,
    open_rows,
    received,
    repeats,
    rows_by_status,
    sending,
    wait_until,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]  # processes, kills and faults: `-m "not slow"` skips them

SCALE = 30
DEFAULTS = inspect.signature(OutboxSender).parameters
READ_TIMEOUT = 0.5
CHATS = 40
ROWS = 2 * CHATS  # a two-part digest and an announcement each
MESSAGES = CHATS * len(EXPECTED)


def real(seconds: float) -> float:
    """Return how long `seconds` of real trouble lasts here."""
    return seconds / SCALE


@dataclass(frozen=True)
class Trouble:
    """What Telegram does for a while, and how its failed calls show in the emulator's log."""

    inflict: Callable[[BotAPIEmulator], None]
    lasting: float  # seconds, here
    logged: int | None  # the status of a failed call in http_log; None: the call is never logged


TROUBLES = {
    # The emulator answers after 3 read timeouts: PTB gives up, the call is cancelled unsent.
    "stalls for 30 s": Trouble(lambda e: e.delay("sendMessage", 3 * READ_TIMEOUT, lasting=real(30)), real(30), None),
    "connection resets for 30 s": Trouble(lambda e: e.drop_connection("sendMessage", lasting=real(30)), real(30), 0),
    "502 for 20 s": Trouble(lambda e: e.fail("sendMessage", status=502, lasting=real(20)), real(20), 502),
    "429 storm for 2 s": Trouble(lambda e: e.fail("sendMessage", status=429, retry_after=1, lasting=2), 2, 429),
}


async def broadcast_through(
    trouble: Trouble, emulator: BotAPIEmulator, tmp_path: Path, *, count: int = CHATS, scale: int = SCALE
) -> dict[str, object]:
    """Send a digest and an announcement to `count` chats while `trouble` lasts; return the figures."""
    everyone = chats(count)
    began: list[float] = []

    async def start_trouble() -> None:
        began.append(time.monotonic())
        trouble.inflict(emulator)

    async with database(f"sqlite:///{tmp_path / 'newsbot.db'}") as sessions:
        assert await enqueue_broadcasts(sessions, everyone) == 2 * count
        async with telegram_bot(emulator, read_timeout=READ_TIMEOUT) as bot:
            sender = make_sender(
                bot, sessions, backoff=DEFAULTS["backoff"].default / scale, lease=timedelta(seconds=30)
            )
            started = time.monotonic()
            # Half the chats' worth of messages out, then the trouble starts.
            with at_sends(emulator, {count // 2: start_trouble}):
                async with sending(sender):

                    async def settled() -> bool:  # sent, or given up on
                        return await open_rows(sessions) == 0

                    await wait_until(settled, "every row to be settled", timeout=20)
        statuses = await rows_by_status(sessions)
        async with sessions() as session:
            attempts = (await session.execute(select(func.sum(OutboxRow.attempts)))).scalar_one()
    ended = began[0] + trouble.lasting
    log = [r for r in emulator.http_log if r.method == "sendMessage"]
    return {
        "statuses": statuses,
        "attempts": attempts,
        "failed calls": sum(1 for r in log if r.status != 200),
        "delivered after the trouble": sum(1 for r in log if r.status == 200 and r.at >= ended),
        "took": round(time.monotonic() - started, 2),
        "repeats": repeats(emulator, everyone) if statuses == {OutboxStatus.SENT: 2 * count} else None,
    }


def shown(figures: dict[str, object]) -> str:
    """Return the figures in one line, repeats summed over the chats."""
    extra = figures["repeats"]
    summed = {"sent twice": sum(extra.values())} if isinstance(extra, dict) else {}
    return ", ".join(f"{key} {value}" for key, value in (figures | summed).items() if key != "repeats")


@pytest.mark.parametrize("name", list(TROUBLES))
async def test_the_sender_rides_out_the_trouble_and_delivers_exactly_once(
    name: str, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    trouble = TROUBLES[name]
    figures = await broadcast_through(trouble, emulator, tmp_path)
    print(f"\n{name}: {shown(figures)}")
    assert figures["statuses"] == {OutboxStatus.SENT: ROWS}  # nothing given up on
    assert figures["repeats"] == {}  # every part and announcement once per chat
    assert figures["delivered after the trouble"] > 0  # late, but there
    if trouble.logged is not None:
        failed = figures["failed calls"]
        assert isinstance(failed, int) and failed > 0
    if trouble.logged == 429:
        # Backing off: each 429 holds every send for retry_after, so a storm of 2 s meets at most
        # the sends in flight once a second, not the whole backlog.
        assert figures["failed calls"] <= DEFAULTS["concurrency"].default * 4
        assert figures["attempts"] == ROWS  # a 429 is not the message's fault: no attempt counted
    else:
        attempts = figures["attempts"]
        assert isinstance(attempts, int) and attempts > ROWS  # the rows caught in it were tried again


async def test_a_minute_of_502s_delays_the_broadcast_but_loses_nothing(
    emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    # Compressed half as much, and few chats: a loaded machine that runs the retries a little
    # late must not stretch them past the minute.
    minute = 60 / (SCALE / 2)
    trouble = Trouble(lambda e: e.fail("sendMessage", status=502, lasting=minute), minute, 502)
    figures = await broadcast_through(trouble, emulator, tmp_path, count=10, scale=SCALE // 2)
    print(f"\n502 for a minute: {shown(figures)}")
    assert figures["statuses"] == {OutboxStatus.SENT: 20}


async def test_lost_answers_cost_one_duplicate_each_and_nothing_else(emulator: BotAPIEmulator, tmp_path: Path) -> None:
    """Telegram took the message but the answer never came back: the sender cannot tell this from
    a message that never arrived, so it sends again. At least once: each lost answer is exactly
    one second copy (the part whose answer was lost), never a lost message."""
    trouble = Trouble(lambda e: e.drop_connection("sendMessage", after=True, lasting=real(30)), real(30), 0)
    figures = await broadcast_through(trouble, emulator, tmp_path)
    print(f"\nanswers lost for 30 s: {shown(figures)}")
    assert figures["statuses"] == {OutboxStatus.SENT: ROWS}
    extra = figures["repeats"]
    lost = sum(1 for r in emulator.http_log if r.method == "sendMessage" and r.status == 0)
    assert isinstance(extra, dict) and lost > 0
    assert sum(extra.values()) == lost
    assert sum(received(emulator).values()) == MESSAGES + lost


async def test_stopping_during_an_outage_hands_the_rows_back_at_once(emulator: BotAPIEmulator, tmp_path: Path) -> None:
    """A shutdown while Telegram is down does not wait out the outage's hold (2 s, doubling to a
    minute): the sends waiting for their turn give up, and their rows are due again at once."""
    everyone = chats(CHATS)
    emulator.fail("sendMessage", status=502, lasting=600)
    async with database(f"sqlite:///{tmp_path / 'newsbot.db'}") as sessions:
        await enqueue_broadcasts(sessions, everyone)
        async with telegram_bot(emulator, read_timeout=READ_TIMEOUT) as bot:
            sender = make_sender(bot, sessions, lease=timedelta(seconds=30))  # the real 2 s hold
            task = asyncio.create_task(sender.run(poll=0.05))
            await wait_until(lambda: sum(r.status == 502 for r in emulator.http_log) >= 3, "an outage to show")
            await asyncio.sleep(0.2)  # every other send is waiting out the hold now
            stopped = time.monotonic()
            sender.stop()
            await asyncio.wait_for(task, timeout=5)
            took = time.monotonic() - stopped
        statuses = await rows_by_status(sessions)
        async with sessions() as session:
            attempts = (await session.execute(select(func.sum(OutboxRow.attempts)))).scalar_one()
    print(f"\nstopped in {took:.2f} s; {statuses}")
    assert took < 1.0  # not the hold's 2 s or more
    assert statuses == {OutboxStatus.PENDING: 2 * CHATS}  # handed back, none sending, none failed
    assert attempts < OUTAGE_CHATS  # only the failures before the outage was recognised count
