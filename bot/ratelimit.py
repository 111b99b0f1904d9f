"""Telegram's sending limits as token buckets: about 30 messages a second overall, one a second
to a private chat, twenty a minute to a group. Waiting here beats a 429 from the server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["Bucket", "RateLimiter"]


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


class RateLimiter:
    """Wait for a global slot and a per-chat slot before each send.

    `global_rate` None turns the global cap off (benchmarks measure the raw speed that way);
    per-chat limits always apply, since Telegram enforces them per chat.
    """

    _MAX_CHATS = 100_000  # buckets kept; the least recently used go first

    def __init__(
        self, *, global_rate: float | None = 25.0, private_rate: float = 1.0, group_per_minute: float = 20.0
    ) -> None:
        # No burst: a full bucket would let twice the rate through in the first second.
        self._global = Bucket(global_rate, 1.0) if global_rate else None
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
                    return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=wait)
        return False
