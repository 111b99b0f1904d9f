"""The outbox sender: every broadcast message is a row before it is a message.

Digests, announcements and channel posts are enqueued as rows (unique on kind, key and chat), then
this loop claims due rows, sends them through the rate limiter and records each result: errors at
once, successes together every `flush_every` seconds or `batch` rows.
A crash leaves claimed rows in `sending`; after the lease they are claimed again, so nothing is
lost and at most the rows in flight at the crash (`window`) are sent twice. On PostgreSQL rows are claimed
with FOR UPDATE SKIP LOCKED, so two bot processes never send the same row.

What Telegram's answer means (one table, `classify`):

    RetryAfter               wait what Telegram says, then retry (does not count as an attempt)
    Forbidden                blocked, kicked or deactivated: mark the chat inactive, stop
    ChatMigrated             the group became a supergroup: move the chat id, send again now
    BadRequest chat missing  the chat is gone: like Forbidden
    BadRequest (other)       the message itself is wrong: failed, error kept (retrying cannot help)
    TimedOut, NetworkError   retry with exponential backoff, `failed` after `max_attempts`

A network error or 5xx may be the message's chat, or Telegram (or the network) being down for
everyone. Once such errors have come from `OUTAGE_CHATS` different chats with no message getting
through in between, it is the latter: every send waits (2 s, doubling, at most `max_outage_wait`)
and the rows tried meanwhile are retried without counting an attempt, so a long outage delays
the messages and fails none of them. The first message through ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.config import DeliverySettings
from bot.ratelimit import RateLimiter
from bot.render import article_payload, deep_link
from bot.texts import ZH, t
from storage import (
    OutboxRow,
    StorageError,
    claim_due,
    mark_blocked_row,
    mark_failed,
    mark_progress,
    mark_retry,
    mark_sent_many,
    migrate_chat,
)

__all__ = ["OPEN_IN_BOT", "OutboxSender", "Verdict", "classify"]

_DEFAULTS = DeliverySettings()  # the `[delivery]` defaults, for senders built without settings
logger = logging.getLogger(__name__)


class Verdict(StrEnum):
    """What to do with a row after Telegram answered."""

    RETRY_AFTER = "retry_after"
    BLOCKED = "blocked"
    MIGRATED = "migrated"
    FAILED = "failed"
    RETRY = "retry"


def classify(error: TelegramError) -> Verdict:
    """Map a Telegram error to what the sender does about it."""
    if isinstance(error, RetryAfter):
        return Verdict.RETRY_AFTER
    if isinstance(error, Forbidden):
        return Verdict.BLOCKED
    if isinstance(error, ChatMigrated):
        return Verdict.MIGRATED
    # BadRequest subclasses NetworkError: it must be told apart first.
    if isinstance(error, BadRequest):
        return Verdict.BLOCKED if "chat not found" in error.message.lower() else Verdict.FAILED
    if isinstance(error, NetworkError):
        return Verdict.RETRY
    return Verdict.FAILED


# A part's key naming an article: it gets a button opening the article in the bot, a deep link
# made here because only the sender's bot knows its username.
OPEN_IN_BOT = "open_in_bot"


@dataclass(frozen=True, slots=True)
class _Part:
    text: str
    markup: InlineKeyboardMarkup | None

    @classmethod
    def of(cls, data: dict[str, Any], bot: Bot) -> _Part:
        markup = data.get("reply_markup")
        if markup:
            return cls(data["text"], InlineKeyboardMarkup.de_json(markup, bot))
        article_id = data.get(OPEN_IN_BOT)
        if article_id is None or not bot.username:
            return cls(data["text"], None)
        link = deep_link(bot.username, article_payload(int(article_id)))
        return cls(data["text"], InlineKeyboardMarkup([[InlineKeyboardButton(t(ZH, "open_in_bot"), url=link)]]))


# Transient errors from this many chats, and no success between them, mean Telegram is down.
OUTAGE_CHATS = 3


class OutboxSender:
    """Claim due outbox rows, send them politely, record every result."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        limiter: RateLimiter,
        *,
        batch: int = 50,
        concurrency: int = _DEFAULTS.concurrency,
        max_attempts: int = _DEFAULTS.max_attempts,
        backoff: timedelta = timedelta(seconds=2),
        lease: timedelta = timedelta(seconds=_DEFAULTS.lease),
        flush_every: float = 0.2,
        max_outage_wait: timedelta = timedelta(seconds=60),
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.limiter = limiter
        self.batch = batch
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.lease = lease
        self.flush_every = flush_every
        self.max_outage_wait = max_outage_wait
        self._failing_chats: set[int] = set()  # chats with a transient error since the last success
        self._outage_waits = 0  # waits ordered in the current outage
        self._outage_until = 0.0  # time.monotonic() the current wait ends
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._gate = asyncio.Semaphore(concurrency)
        # Sent rows not yet recorded, written together (see _flush); a crash before the write
        # sends them again after their lease: the in-flight window is these plus the sends under way.
        self._sent: list[tuple[int, list[int]]] = []
        self._oldest_unrecorded = 0.0
        self._flushing = asyncio.Lock()

    @property
    def window(self) -> int:
        """The most rows a crash may send twice: claimed and unsent, plus sent and not yet recorded."""
        return 2 * self.batch

    def wake(self) -> None:
        """Tell the loop there is new work (after an enqueue), so it does not wait for its poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the sends under way, hand back the rows not yet sent, then leave `run`."""
        self._stopping = True
        self.limiter.close()  # sends waiting for their turn (an outage's hold: up to a minute) give up
        self._wake.set()

    async def run(self, poll: float = 1.0, *, until_idle: bool = False) -> int:
        """Send until stopped (with `until_idle`, until nothing is due or in flight); return the rows handled.

        Rows are claimed again when half the batch is done, so a slow chat (a digest's parts one
        second apart) never holds up the others.
        """
        in_flight: set[asyncio.Task[None]] = set()
        handled = 0
        dry = False  # the last claim found nothing: claim again on a wake-up or when all is done
        while True:
            if not self._stopping and len(in_flight) <= self.batch // 2 and not (dry and in_flight):
                self._wake.clear()  # a wake-up from here on means work this claim may not see
                try:
                    rows = await self._claim(self.batch - len(in_flight))
                except Exception:  # the database may be down: keep the loop, try again after a pause
                    logger.exception("outbox claim failed")
                    rows = []
                dry = not rows
                in_flight.update(asyncio.create_task(self._one(row)) for row in rows)
            if not in_flight:
                recorded = await self._flush_quietly()
                if self._stopping or (until_idle and recorded):
                    return handled
                await self._pause(poll)
                continue
            done, _ = await asyncio.wait(
                in_flight, timeout=self.flush_every if self._sent else None, return_when=asyncio.FIRST_COMPLETED
            )
            in_flight -= done
            handled += len(done)
            dry = dry and not self._wake.is_set()
            for task in done:
                if (error := task.exception()) is not None:
                    logger.error("outbox send failed", exc_info=error)
            if self._sent and (
                len(self._sent) >= self.batch or time.monotonic() - self._oldest_unrecorded >= self.flush_every
            ):
                await self._flush_quietly()

    async def drain_once(self) -> int:
        """Claim and send one batch, record it; return how many rows were handled."""
        rows = await self._claim(self.batch)
        results = await asyncio.gather(*(self._one(row) for row in rows), return_exceptions=True)
        await self._flush()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(rows)

    async def _claim(self, limit: int) -> list[OutboxRow]:
        async with self.sessions.begin() as session:
            return await claim_due(
                session=session, worker=self.worker, limit=limit, now=datetime.now(UTC), lease=self.lease
            )

    async def _pause(self, seconds: float) -> None:
        """Wait for a wake-up or `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _one(self, row: OutboxRow) -> None:
        async with self._gate:
            if self._stopping:
                await self._release(row, list(row.telegram_message_ids or []))
                return
            try:
                await self._deliver(row)
            except StorageError:
                raise  # the database is down: the lease brings the row back later
            except Exception as exc:  # a broken payload: fail the row rather than retry it for ever
                logger.exception("outbox row %s cannot be sent", row.id)
                async with self.sessions.begin() as session:
                    await mark_failed(session=session, row_id=row.id, error=f"{type(exc).__name__}: {exc}")

    def _record_sent(self, row: OutboxRow, message_ids: list[int]) -> None:
        if not self._sent:
            self._oldest_unrecorded = time.monotonic()
        self._sent.append((row.id, message_ids))

    async def _flush(self) -> None:
        """Write the sent rows not yet recorded, in one transaction; on failure keep them for the next try."""
        async with self._flushing:
            sent, self._sent = self._sent, []
            try:
                async with self.sessions.begin() as session:
                    await mark_sent_many(session=session, sent=sent)
            except BaseException:
                self._sent[:0] = sent
                raise

    async def _flush_quietly(self) -> bool:
        """Flush; log a failure rather than raise it. Return whether everything sent is recorded."""
        try:
            await self._flush()
        except Exception:
            logger.exception("recording %d sent outbox rows failed", len(self._sent))
            return False
        return True

    async def _deliver(self, row: OutboxRow) -> None:
        parts = [_Part.of(p, self.bot) for p in row.payload["parts"]]
        sent_ids: list[int] = list(row.telegram_message_ids or [])
        chat_id = row.chat_id
        # A multi-part digest resumes after the parts already sent, so a retry repeats none.
        while len(sent_ids) < len(parts):
            part = parts[len(sent_ids)]
            if not await self.limiter.acquire(chat_id):  # stopped while waiting its turn
                await self._release(row, sent_ids)
                return
            try:
                message = await self.bot.send_message(
                    chat_id, part.text, parse_mode="HTML", reply_markup=part.markup, disable_web_page_preview=True
                )
            except TelegramError as error:
                migrated = await self._handle(row, error, sent_ids)
                if migrated is None:
                    return
                chat_id = migrated
                continue  # migrated: the same part again, to the new chat id
            sent_ids.append(message.message_id)
            self._failing_chats.clear()  # a message got through: whatever was down is up
            self._outage_waits = 0
            if len(sent_ids) < len(parts):
                async with self.sessions.begin() as session:
                    await mark_progress(session=session, row_id=row.id, message_ids=sent_ids)
        self._record_sent(row, sent_ids)

    async def _release(self, row: OutboxRow, sent_ids: list[int]) -> None:
        """Shutting down: hand a row not (wholly) sent back, due at once, for the next start."""
        async with self.sessions.begin() as session:
            await mark_retry(
                session=session,
                row_id=row.id,
                error="released at shutdown",
                next_attempt_at=datetime.now(UTC),
                message_ids=sent_ids,
                count_attempt=False,
            )

    def _outage_wait(self, chat_id: int) -> timedelta | None:
        """Count a transient error; during an outage, hold every send and return how long, else None."""
        self._failing_chats.add(chat_id)
        if len(self._failing_chats) < OUTAGE_CHATS:
            return None
        left = self._outage_until - time.monotonic()
        if left > 0:  # a send that began before the wait: the wait is not lengthened for it
            return timedelta(seconds=left)
        wait = min(self.backoff * 2**self._outage_waits, self.max_outage_wait)
        if self._outage_waits == 0:
            logger.warning("Telegram unreachable from %d chats in a row: sending waits", len(self._failing_chats))
        self._outage_waits += 1
        self._outage_until = time.monotonic() + wait.total_seconds()
        self.limiter.hold(wait.total_seconds())
        return wait

    async def _handle(self, row: OutboxRow, error: TelegramError, sent_ids: Sequence[int]) -> int | None:
        """Record what an error means; return the chat id to go on sending to, or None to stop."""
        verdict = classify(error)
        now = datetime.now(UTC)
        async with self.sessions.begin() as session:
            if verdict is Verdict.MIGRATED:
                assert isinstance(error, ChatMigrated)
                await migrate_chat(session=session, old_chat_id=row.chat_id, new_chat_id=error.new_chat_id)
                # migrate_chat drops this row when the new chat has its own copy: that copy is sent instead.
                kept = await session.scalar(select(OutboxRow.id).where(OutboxRow.id == row.id))
                return error.new_chat_id if kept is not None else None
            retry: tuple[timedelta, bool] | None = None  # (in how long, whether it counts as an attempt)
            if verdict is Verdict.RETRY_AFTER:
                assert isinstance(error, RetryAfter)
                wait = _retry_after(error)
                self.limiter.hold(wait)
                retry = (timedelta(seconds=wait), False)
            elif verdict is Verdict.BLOCKED:
                await mark_blocked_row(session=session, row_id=row.id, error=str(error))
            elif verdict is Verdict.RETRY and (outage := self._outage_wait(row.chat_id)) is not None:
                retry = (outage, False)
            elif verdict is Verdict.RETRY and row.attempts + 1 < self.max_attempts:
                retry = (self.backoff * 2**row.attempts, True)
            else:
                await mark_failed(session=session, row_id=row.id, error=str(error))
            if retry is not None:
                await mark_retry(
                    session=session,
                    row_id=row.id,
                    error=str(error),
                    next_attempt_at=now + retry[0],
                    message_ids=list(sent_ids),
                    count_attempt=retry[1],
                )
        if verdict is not Verdict.RETRY_AFTER:
            logger.info("outbox row %s to %s: %s (%s)", row.id, row.chat_id, verdict, error)
        return None


def _retry_after(error: RetryAfter) -> float:
    """Return the seconds Telegram asked us to wait (an int in PTB 22, a timedelta from 23 on)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # reading it warns of the change
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
