"""Replies that are the same for every user, kept for a few seconds.

/latest, /summary, /full and /search answer from the stored articles alone, which change only when
an article is stored, yet a channel post or the digest hour sends hundreds of users to the same
few of them at once. Kept here, such a burst reads the database once, not once a user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

__all__ = ["ReplyCache"]

T = TypeVar("T")

_MAX_ENTRIES = 512  # keys are (kind, language, id or page): the front pages fit many times over


class ReplyCache:
    """Values made by an awaitable, each kept `seconds` from when its making began.

    One making per key at a time: callers arriving meanwhile await the same task. `clear` is called
    when this process stores an article, so its users see it at once; an article stored by another
    process (a second bot, `newsbot ingest` from cron) shows within `seconds`. A failed making is
    not kept: each caller gets its error, and the next call tries again.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, asyncio.Task[Any]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """Return the kept value of `key`, or make it (once, however many callers ask meanwhile)."""
        if self.seconds <= 0:
            return await make()
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if len(self._entries) >= _MAX_ENTRIES:
                self._prune(now)
            entry = (now + self.seconds, asyncio.ensure_future(make()))
            self._entries[key] = entry
            entry[1].add_done_callback(lambda task: self._drop_failed(key, task))
        # A caller cancelled (its update timed out) must not cancel the making the others await.
        value: T = await asyncio.shield(entry[1])
        return value

    def clear(self) -> None:
        """Forget every value: what is being made now is still handed to those awaiting it."""
        self._entries.clear()

    def _drop_failed(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None:  # exception(): retrieved, not logged as lost
            entry = self._entries.get(key)
            if entry is not None and entry[1] is task:
                del self._entries[key]

    def _prune(self, now: float) -> None:
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        if len(self._entries) >= _MAX_ENTRIES:  # all fresh: a crawl through every page, not a burst
            self._entries.clear()
