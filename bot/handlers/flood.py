"""Flood protection: each user may send `commands` messages or button presses per `seconds`.

Past that, the user gets one polite answer and is then ignored until the bucket refills, so a
flood costs the bot one reply, not one per message. Each user has a bucket of their own: a
flooding user never slows anyone else. Admins are not limited: they are few, trusted, and may
need to act quickly (a burst of /ingest or /announce); every admin command still checks the
user id itself.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.ratelimit import Bucket
from bot.services import Context, is_admin, lang
from bot.texts import t

__all__ = ["FloodLimiter", "Verdict", "flood_handler"]

logger = logging.getLogger(__name__)


class Verdict(Enum):
    """What to do with a user's update."""

    PASS = "pass"  # within the limit: handle it
    WARN = "warn"  # the first one over: say so, once
    DROP = "drop"  # over and already told: ignore it


@dataclass(slots=True)
class _User:
    bucket: Bucket
    warned: bool = False


class FloodLimiter:
    """A token bucket per user id: `commands` at once, refilled evenly over `seconds`."""

    _MAX_USERS = 100_000  # buckets kept; the least recently active go first (they are full again anyway)

    def __init__(self, commands: int, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if commands < 1 or seconds <= 0:
            raise ValueError(f"a flood limit needs commands >= 1 and seconds > 0, got {commands} per {seconds}")
        self._commands = commands
        self._rate = commands / seconds
        self._clock = clock
        self._users: OrderedDict[int, _User] = OrderedDict()

    def check(self, user_id: int) -> Verdict:
        """Count one update from the user and tell whether to handle it."""
        now = self._clock()
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User(Bucket(self._rate, self._commands, stamp=now))
            if len(self._users) > self._MAX_USERS:
                self._users.popitem(last=False)
        else:
            self._users.move_to_end(user_id)
        if user.bucket.wait_time(now) == 0:
            user.bucket.take()
            user.warned = False
            return Verdict.PASS
        if user.warned:
            return Verdict.DROP
        user.warned = True
        return Verdict.WARN

    def wait(self, user_id: int) -> float:
        """Return the seconds until the user may send again (0 when they may now)."""
        user = self._users.get(user_id)
        return 0.0 if user is None else user.bucket.wait_time(self._clock())


def flood_handler(limiter: FloodLimiter) -> TypeHandler[Update, Context]:
    """Return the handler (for group -1, before every other) that enforces the limit."""

    async def guard(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or not (update.message or update.callback_query) or is_admin(update, context):
            return
        verdict = limiter.check(user.id)
        if verdict is Verdict.PASS:
            return
        if verdict is Verdict.WARN:
            seconds = max(1, math.ceil(limiter.wait(user.id)))
            logger.warning("user %d is flooding; ignoring them for %d s", user.id, seconds)
            text = t(lang(update), "flood", seconds=seconds)
            try:
                if update.callback_query is not None:
                    await update.callback_query.answer(text)
                elif update.message is not None:
                    await update.message.reply_text(text, do_quote=False)
            except TelegramError:
                logger.warning("could not tell user %d to slow down", user.id, exc_info=True)
        raise ApplicationHandlerStop

    return TypeHandler(Update, guard)
