"""Telegram's sending limits as token buckets: about 30 messages a second overall, one a second
to a private chat, twenty a minute to a group. Waiting here beats a 429 from the server.

Telegram counts the overall limit per bot, not per process: senders sharing a PostgreSQL
database take their overall slots from a budget kept there (`SharedBudget`), a few at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import StorageError, reserve_sends

__all__ = ["Bucket", "RateLimiter", "SharedBudget"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Bucket:
    """A token bucket: `rate` tokens a second, holding at most `burst`."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def wait_time(self, now: float) -> float:
        """Return how long until a token is free (0: now), refilling first."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend a token (call after wait_time said 0)."""
        self.tokens -= 1


class SharedBudget:
    """The overall rate as slots reserved in the database, so every sender on it keeps one cap.

    Slots are reserved `chunk` at a time (one round trip for several sends); a slot whose time
    passed unused is dropped, not spent late, so an idle sender's leftovers never add a burst.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], rate: float, *, chunk: int = 5) -> None:
        self.sessions = sessions
        self.interval = 1 / rate
        self.chunk = chunk
        self._slots: deque[float] = deque()  # time.monotonic() of each reserved slot, in order
        self._lock = asyncio.Lock()

    async def wait_time(self) -> float:
        """Take the next slot; return how long until it starts (0: now)."""
        async with self._lock:
            now = time.monotonic()
            while self._slots and self._slots[0] < now - self.interval:
                self._slots.popleft()
            if not self._slots:
                self._slots.extend(await self._reserve(now))
            return max(0.0, self._slots.popleft() - now)

    async def _reserve(self, now: float) -> list[float]:
        try:
            async with self.sessions.begin() as session:
                wall = time.time()
                start = await reserve_sends(session=session, count=self.chunk, interval=self.interval, now=wall)
            first = now + (start - wall)
        except (SQLAlchemyError, StorageError) as exc:
            # No database, no shared count: pace this sender alone until it answers again.
            logger.warning("send budget unavailable, pacing this process alone: %s", exc)
            first = now + self.interval
        return [first + i * self.interval for i in range(self.chunk)]


class RateLimiter:
    """Wait for a global slot and a per-chat slot before each send.

    `global_rate` None turns the global cap off (benchmarks measure the raw speed that way);
    per-chat limits always apply, since Telegram enforces them per chat. With `shared`, the
    global slot comes from that budget (kept with other processes) instead of this process's bucket.
    """

    _MAX_CHATS = 100_000  # buckets kept; the least recently used go first

    def __init__(
        self,
        *,
        global_rate: float | None = 25.0,
        private_rate: float = 1.0,
        group_per_minute: float = 20.0,
        shared: SharedBudget | None = None,
    ) -> None:
        # No burst: a full bucket would let twice the rate through in the first second.
        self._global = Bucket(global_rate, 1.0) if global_rate and shared is None else None
        self._shared = shared
        self._private_rate = private_rate
        self._group_rate = group_per_minute / 60
        self._chats: OrderedDict[int, Bucket] = OrderedDict()
        self._lock = asyncio.Lock()
        self._not_before = 0.0
        self._closed = asyncio.Event()

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds`: Telegram answered 429 and said how long to wait."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    def _chat(self, chat_id: int) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            # Group and channel ids are negative in the Bot API.
            rate = self._group_rate if chat_id < 0 else self._private_rate
            bucket = self._chats[chat_id] = Bucket(rate, 1.0)
            if len(self._chats) > self._MAX_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return bucket

    def close(self) -> None:
        """Let no more sends through: waiting ones return False at once (a hold may last a minute)."""
        self._closed.set()

    async def acquire(self, chat_id: int) -> bool:
        """Return True when a message to `chat_id` may be sent, False once the limiter is closed."""
        while not self._closed.is_set():
            async with self._lock:
                now = time.monotonic()
                chat = self._chat(chat_id)
                held = self._not_before - now
                wait = max(held, chat.wait_time(now), self._global.wait_time(now) if self._global else 0.0)
                if wait == 0:
                    chat.take()
                    if self._global:
                        self._global.take()
                    break
            await self._sleep(wait)
        else:
            return False
        if self._shared is not None:
            await self._sleep(await self._shared.wait_time())
        return not self._closed.is_set()

    async def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less if the limiter is closed meanwhile."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=seconds)
