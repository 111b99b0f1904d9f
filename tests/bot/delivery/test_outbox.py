"""The outbox sender, in process, against the Bot API emulator, on SQLite and PostgreSQL.

Every broadcast is a row before it is a message: these tests check what each of Telegram's
answers does to the row, to the subscriber and to what the chat finally receives, counting the
messages per chat in the emulator.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot

from bot.delivery import OutboxSender
from bot.emulator import BotAPIEmulator, LoggedRequest
from bot.ratelimit import RateLimiter, SharedBudget
from storage import (
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    SubscriberKind,
    active_subscriber_ids,
    enqueue,
    get_subscriber,
    make_engine,
    make_sessionmaker,
    outbox_tally,
    pending_count,
    subscribe,
)

pytestmark = pytest.mark.asyncio

BACKOFF = timedelta(milliseconds=20)  # first retry after a network error; doubles per attempt
ANNOUNCEMENT = {"parts": [{"text": "<b>停水通知</b>：明日 8:00–18:00 城区停水"}]}


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


def make_sender(
    bot: Bot, sessions: async_sessionmaker[AsyncSession], limiter: RateLimiter | None = None, **options: Any
) -> OutboxSender:
    options.setdefault("backoff", BACKOFF)
    return OutboxSender(bot, sessions, limiter or RateLimiter(global_rate=None), **options)


async def drain(sender: OutboxSender, sessions: async_sessionmaker[AsyncSession], timeout: float = 20) -> None:
    """Run sender passes until no row is pending or sending (waiting out retries' next_attempt_at)."""
    async with asyncio.timeout(timeout):
        while True:
            if await sender.drain_once():
                continue
            async with sessions() as session:
                if await pending_count(session=session) == 0:
                    return
            await asyncio.sleep(0.02)


async def subscribe_all(
    sessions: async_sessionmaker[AsyncSession], chat_ids: Iterable[int], kind: SubscriberKind = SubscriberKind.PRIVATE
) -> None:
    async with sessions.begin() as session:
        for chat_id in chat_ids:
            user_id = chat_id if chat_id > 0 else 1
            await subscribe(session=session, chat_id=chat_id, user_id=user_id, kind=kind, language="zh-hans")


async def broadcast(
    sessions: async_sessionmaker[AsyncSession],
    chat_ids: Iterable[int],
    payload: dict[str, Any] = ANNOUNCEMENT,
    *,
    kind: OutboxKind = OutboxKind.ANNOUNCEMENT,
    key: str = "1",
) -> int:
    async with sessions.begin() as session:
        return await enqueue(session=session, kind=kind, key=key, chat_ids=chat_ids, payload=payload)


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> dict[int, OutboxRow]:
    """Return every outbox row by chat id (one broadcast per test)."""
    async with sessions() as session:
        return {row.chat_id: row for row in (await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars()}


async def tally(sessions: async_sessionmaker[AsyncSession], key: str = "1") -> dict[OutboxStatus, int]:
    async with sessions() as session:
        return await outbox_tally(session=session, kind=OutboxKind.ANNOUNCEMENT, key=key)


def received(emulator: BotAPIEmulator) -> Counter[int]:
    """Return how many messages each chat received."""
    return Counter(sent.chat_id for sent in emulator.sent if sent.method == "sendMessage")


def sends(emulator: BotAPIEmulator, chat_id: int | None = None) -> list[LoggedRequest]:
    """Return the sendMessage requests (to one chat, if given), with how each was answered."""
    return [
        r
        for r in emulator.http_log
        if r.method == "sendMessage" and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
    ]


def tallied(**counts: int) -> dict[OutboxStatus, int]:
    return {status: 0 for status in OutboxStatus} | {OutboxStatus(k): v for k, v in counts.items()}


class WatchedLimiter(RateLimiter):
    """The real rate limiter (no global cap), recording when it lets each send through and each hold.

    `hook(n)`, if given, runs as the n-th send (from 1) passes: a fault injected at an exact send.
    """

    def __init__(self, hook: Callable[[int], object] | None = None, **rates: float) -> None:
        super().__init__(global_rate=None, **rates)
        self.hook = hook
        self.passed: list[float] = []  # time.monotonic() of each send let through
        self.chats: list[int] = []  # the chat of each
        self.holds: list[tuple[float, float]] = []  # (when, seconds) of each hold after a 429

    def hold(self, seconds: float) -> None:
        self.holds.append((time.monotonic(), seconds))
        super().hold(seconds)

    async def acquire(self, chat_id: int) -> bool:
        if not await super().acquire(chat_id):
            return False
        self.passed.append(time.monotonic())
        self.chats.append(chat_id)
        if self.hook is not None:
            self.hook(len(self.passed))
        return True


async def test_an_announcement_to_500_reaches_every_active_subscriber_exactly_once(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chats = list(range(10_001, 10_501))
    blocked = chats[::20]  # 5 %: they blocked the bot since subscribing
    active = sorted(set(chats) - set(blocked))
    await subscribe_all(sessions, chats)
    assert await broadcast(sessions, chats) == 500
    for chat_id in blocked:
        emulator.block(chat_id)
    # The first five sends answer 429 (retry after 1 s), the next two 502 Bad Gateway.
    emulator.fail("sendMessage", status=429, retry_after=1, times=5)
    emulator.fail("sendMessage", status=502, times=2)

    limiter = WatchedLimiter()
    sender = make_sender(bot, sessions, limiter)
    started = time.monotonic()
    await drain(sender, sessions)
    elapsed = time.monotonic() - started

    assert received(emulator) == Counter(active)  # each active chat once, no blocked one
    log = sends(emulator)
    # Nothing wasted: 475 deliveries, the 7 injected faults, one Forbidden per blocked chat.
    assert Counter(r.status for r in log) == {200: 475, 429: 5, 502: 2, 403: 25}
    # RetryAfter obeyed: each 429 held every send for the second Telegram asked, and none went
    # through meanwhile (only those already past the limiter were still on their way).
    assert [seconds for _, seconds in limiter.holds] == [1.0] * 5
    assert [t for t in limiter.passed if any(h <= t < h + s for h, s in limiter.holds)] == []
    first_429 = min(r.at for r in log if r.status == 429)
    assert max(r.at for r in log) >= first_429 + 1.0  # the rows told to wait went out after the wait
    print(f"\n500 subscribers: {elapsed:.1f} s")
    assert 1.0 <= elapsed < 20, f"the broadcast took {elapsed:.1f} s"

    assert await tally(sessions) == tallied(sent=475, blocked=25)
    rows = await outbox(sessions)
    assert {c: rows[c].telegram_message_ids for c in active} == {
        c: [emulator.messages_to(c)[0].message_id] for c in active
    }
    # A 429 is not the message's fault: only the 502s count as a lost attempt.
    assert Counter(row.attempts for row in rows.values()) == {1: 498, 2: 2}
    assert {rows[c].status for c in blocked} == {OutboxStatus.BLOCKED}
    async with sessions() as session:
        assert await active_subscriber_ids(session=session, limit=1000) == active
        for chat_id in blocked:
            subscriber = await get_subscriber(session=session, chat_id=chat_id)
            assert subscriber is not None and not subscriber.active and subscriber.blocked_at is not None


async def test_two_senders_on_one_database_keep_one_overall_rate(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession], migrated_url: str
) -> None:
    rate, count = 100.0, 100
    chats = list(range(20_001, 20_001 + count))
    await subscribe_all(sessions, chats)
    await broadcast(sessions, chats)
    other_engine = make_engine(migrated_url)  # the second sender's process: its own engine
    other_sessions = make_sessionmaker(other_engine)
    try:
        senders = [
            make_sender(bot, s, RateLimiter(global_rate=rate, shared=SharedBudget(s, rate)), batch=10)
            for s in (sessions, other_sessions)
        ]
        senders[0].worker, senders[1].worker = "first", "second"
        started = time.monotonic()
        await asyncio.gather(*(drain(sender, s) for sender, s in zip(senders, (sessions, other_sessions), strict=True)))
        elapsed = time.monotonic() - started
    finally:
        await other_engine.dispose()
    assert received(emulator) == Counter(chats)
    # Each send waits for a slot of its own and slots follow each other 1/rate apart, whichever
    # sender took them: a hundred sends cannot end sooner than 99 intervals after the start.
    assert elapsed >= 0.98 * (count - 1) / rate, f"{count} sends in {elapsed:.2f} s at {rate:.0f}/s"
    rows = await outbox(sessions)
    claims = Counter(rows[c].claimed_by for c in chats)
    assert claims.keys() == {"first", "second"}, claims  # both sent: the budget was shared, not one sender's


async def test_enqueuing_a_broadcast_twice_sends_it_once(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await subscribe_all(sessions, [501, 502])
    assert await broadcast(sessions, [501, 502]) == 2
    assert await broadcast(sessions, [502, 501, 502]) == 0  # a second "send" press, a retried job
    sender = make_sender(bot, sessions)
    await drain(sender, sessions)
    assert await broadcast(sessions, [501, 502]) == 0  # and again once it went out
    await drain(sender, sessions)

    assert received(emulator) == {501: 1, 502: 1}
    assert await tally(sessions) == tallied(sent=2)


async def test_a_digest_resumes_after_the_parts_already_sent(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat_id = 601
    texts = [f"<b>今日要闻</b> 第{i}部分" for i in (1, 2, 3)]
    await subscribe_all(sessions, [chat_id])
    async with sessions.begin() as session:
        payload = {"parts": [{"text": text} for text in texts]}
        await enqueue(session=session, kind=OutboxKind.DIGEST, key="2026-11-28", chat_ids=[chat_id], payload=payload)

    def bad_gateway_at_part_two(send: int) -> None:
        if send == 2:
            emulator.fail("sendMessage", status=502, times=1)

    # Per-chat pacing off (1/s to a private chat would make three parts take seconds).
    sender = make_sender(bot, sessions, WatchedLimiter(bad_gateway_at_part_two, private_rate=1000))
    assert await sender.drain_once() == 1
    [row] = (await outbox(sessions)).values()
    first = emulator.messages_to(chat_id)[0]
    # Part 1 went out and is recorded; the row waits for its retry.
    assert (row.status, row.telegram_message_ids, row.attempts) == (OutboxStatus.PENDING, [first.message_id], 1)
    assert row.last_error == "Bad Gateway"

    await drain(sender, sessions)
    messages = emulator.messages_to(chat_id)
    assert [m.text for m in messages] == texts  # part 1 once, not again on the retry
    assert [r.status for r in sends(emulator, chat_id)] == [200, 502, 200, 200]
    [row] = (await outbox(sessions)).values()
    assert row.status is OutboxStatus.SENT
    assert row.telegram_message_ids == [m.message_id for m in messages]
    assert row.attempts == 2


async def test_a_slow_digest_does_not_hold_up_the_other_chats(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """`run` claims more rows while a digest's parts wait out their chat's 1 s limit."""
    digest_chat, others = 700, list(range(701, 761))
    await subscribe_all(sessions, [digest_chat, *others])
    async with sessions.begin() as session:
        payload = {"parts": [{"text": f"<b>今日要闻</b> 第{i}部分"} for i in (1, 2, 3)]}
        await enqueue(
            session=session, kind=OutboxKind.DIGEST, key="2026-11-28", chat_ids=[digest_chat], payload=payload
        )
    await broadcast(sessions, others)

    limiter = WatchedLimiter()
    sender = make_sender(bot, sessions, limiter, batch=10, concurrency=4)
    assert await sender.run(poll=0.05, until_idle=True) == 61

    assert received(emulator) == Counter({digest_chat: 3} | {c: 1 for c in others})
    parts = [r.at for r in sends(emulator, digest_chat)]
    # The 60 other chats (six batches) were served while the digest's parts waited their turn.
    assert max(r.at for r in sends(emulator) if str(r.params.get("chat_id")) != str(digest_chat)) < parts[-1]
    # The chat's limit, where the limiter keeps it (arrivals add the network's jitter).
    passed = [at for at, chat in zip(limiter.passed, limiter.chats, strict=True) if chat == digest_chat]
    assert passed[-1] - passed[0] >= 1.99
    assert await tally(sessions) == tallied(sent=60)
    assert {row.status for row in (await outbox(sessions)).values()} == {OutboxStatus.SENT}


async def test_a_group_that_became_a_supergroup_gets_the_message_at_its_new_id(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old, new = -4001, -1_000_000_004_001
    await subscribe_all(sessions, [old], kind=SubscriberKind.GROUP)
    await broadcast(sessions, [old])
    # Every send to the old id answers "group chat was upgraded to a supergroup chat".
    emulator.fail("sendMessage", status=400, migrate_to_chat_id=new, chat_id=old, times=100)

    await drain(make_sender(bot, sessions), sessions)

    assert emulator.messages_to(old) == []
    [message] = emulator.messages_to(new)
    assert message.text == ANNOUNCEMENT["parts"][0]["text"]
    rows = await outbox(sessions)
    assert list(rows) == [new]
    assert (rows[new].status, rows[new].telegram_message_ids) == (OutboxStatus.SENT, [message.message_id])
    async with sessions() as session:
        assert await get_subscriber(session=session, chat_id=old) is None
        moved = await get_subscriber(session=session, chat_id=new)
        assert moved is not None and moved.active and moved.kind is SubscriberKind.SUPERGROUP


async def test_a_migrated_group_whose_supergroup_has_its_own_copy_gets_it_once(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old, new = -4002, -1_000_000_004_002
    await subscribe_all(sessions, [old], kind=SubscriberKind.GROUP)
    await subscribe_all(sessions, [new], kind=SubscriberKind.SUPERGROUP)
    await broadcast(sessions, [old, new])
    emulator.fail("sendMessage", status=400, migrate_to_chat_id=new, chat_id=old, times=100)

    await drain(make_sender(bot, sessions), sessions)

    assert received(emulator) == {new: 1}
    rows = await outbox(sessions)
    assert list(rows) == [new]  # the old chat's copy is dropped, the new chat's is sent
    assert rows[new].status is OutboxStatus.SENT


async def test_chat_not_found_marks_the_chat_blocked(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    gone, fine = 701, 702
    await subscribe_all(sessions, [gone, fine])
    await broadcast(sessions, [gone, fine])
    emulator.fail("sendMessage", status=400, chat_id=gone, times=1)  # "Bad Request: chat not found"

    await drain(make_sender(bot, sessions), sessions)

    assert received(emulator) == {fine: 1}
    assert len(sends(emulator, gone)) == 1  # not retried
    rows = await outbox(sessions)
    assert rows[gone].status is OutboxStatus.BLOCKED
    assert "chat not found" in (rows[gone].last_error or "").lower()
    assert await tally(sessions) == tallied(sent=1, blocked=1)
    async with sessions() as session:
        subscriber = await get_subscriber(session=session, chat_id=gone)
        assert subscriber is not None and not subscriber.active and subscriber.blocked_at is not None
        assert await active_subscriber_ids(session=session) == [fine]


async def test_malformed_html_fails_at_once_with_the_error_kept(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await subscribe_all(sessions, [801])
    await broadcast(sessions, [801], {"parts": [{"text": "<b>未闭合的标签"}]})

    await drain(make_sender(bot, sessions), sessions)

    assert received(emulator) == {}
    assert [r.status for r in sends(emulator, 801)] == [400]  # retrying cannot help: one try
    [row] = (await outbox(sessions)).values()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    error = (row.last_error or "").lower()
    assert "can't parse entities" in error and 'start tag "b"' in error
    async with sessions() as session:
        subscriber = await get_subscriber(session=session, chat_id=801)
        assert subscriber is not None and subscriber.active  # the message was wrong, not the chat


async def test_a_broken_payload_fails_without_stopping_the_batch(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await subscribe_all(sessions, [811, 812])
    await broadcast(sessions, [811], {"parts": [{"no text": "?"}]})
    await broadcast(sessions, [812], key="2")

    await drain(make_sender(bot, sessions), sessions)

    assert received(emulator) == {812: 1}
    broken = next(row for row in (await outbox(sessions)).values() if row.chat_id == 811)
    assert broken.status == OutboxStatus.FAILED
    assert "KeyError" in (broken.last_error or "")


async def test_a_row_that_keeps_failing_is_failed_after_max_attempts(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await subscribe_all(sessions, [901, 902])
    await broadcast(sessions, [901, 902])
    emulator.fail("sendMessage", status=502, chat_id=901, times=100)

    fast = RateLimiter(global_rate=None, private_rate=1000)  # retries to one chat without the 1 s pacing
    await drain(make_sender(bot, sessions, fast, max_attempts=3), sessions)

    assert received(emulator) == {902: 1}
    assert [r.status for r in sends(emulator, 901)] == [502, 502, 502]
    rows = await outbox(sessions)
    assert (rows[901].status, rows[901].attempts, rows[901].last_error) == (OutboxStatus.FAILED, 3, "Bad Gateway")
    assert await tally(sessions) == tallied(sent=1, failed=1)


async def test_a_lost_answer_is_sent_again_at_least_once_delivery(
    emulator: BotAPIEmulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Telegram took the message but the answer never arrived: the sender cannot tell this from a
    message that never got there, so it retries, and the chat sees the message twice. The outbox
    promises at least once, never silence; this pins the one duplicate it costs."""
    await subscribe_all(sessions, [1001])
    await broadcast(sessions, [1001])
    emulator.drop_connection("sendMessage", times=1, after=True)

    await drain(make_sender(bot, sessions, RateLimiter(global_rate=None, private_rate=1000)), sessions)

    messages = emulator.messages_to(1001)
    assert [m.text for m in messages] == [ANNOUNCEMENT["parts"][0]["text"]] * 2
    assert [r.status for r in sends(emulator, 1001)] == [0, 200]  # 0: the connection was dropped
    [row] = (await outbox(sessions)).values()
    # Recorded as the second copy, after one failed attempt.
    assert (row.status, row.attempts, row.telegram_message_ids) == (OutboxStatus.SENT, 2, [messages[1].message_id])
