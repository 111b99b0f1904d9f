"""Errors to the admins, as python-telegram-bot's errorhandlerbot example does, but throttled and
without details: one message per kind of error (the exception's type) per 10 minutes, saying which
command failed and with what type of exception.

Never the exception's text or the message: either may quote what a user wrote privately, and an
HTTP error's text may hold a URL with the token. The traceback is in the log.

Sent directly, not through the outbox: the outbox is in the database, and the error to tell may be
the database's (gone, unreachable), when nothing could be enqueued. Best effort: an alert Telegram
refuses is logged and dropped, and each process keeps its own 10 minutes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.render import esc
from bot.texts import t

__all__ = ["ALERT_EVERY", "ErrorAlerts", "error_kind", "update_command"]

logger = logging.getLogger(__name__)

ALERT_EVERY = 600.0  # seconds: one message per kind of error in this long
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s|$)")


def error_kind(error: BaseException) -> str:
    """Return the exception's type as its module and name: what makes two errors one kind."""
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"


def update_command(update: object) -> str:
    """Return what the update was, named without what the user wrote: its /command, or 按钮 or 消息."""
    if not isinstance(update, Update):
        return t("zh", "alert_no_update")
    if update.callback_query is not None:
        return t("zh", "alert_button")
    message = update.effective_message
    match = _COMMAND.match(message.text or "") if message is not None else None
    return f"/{match[1]}" if match else t("zh", "alert_message")


@dataclass
class ErrorAlerts:
    """Which kinds of error the admins were told of lately, and how many of each went untold since."""

    every: float = ALERT_EVERY
    clock: Callable[[], float] = time.monotonic
    _told: dict[str, float] = field(default_factory=dict)
    _untold: dict[str, int] = field(default_factory=dict)

    def due(self, kind: str) -> int | None:
        """Count an error of `kind`; return None if the admins were told of one within `every`
        seconds, else how many went untold before this one (which is to be told)."""
        now = self.clock()
        told = self._told.get(kind)
        if told is not None and now - told < self.every:
            self._untold[kind] = self._untold.get(kind, 0) + 1
            return None
        self._told[kind] = now
        return self._untold.pop(kind, 0)

    async def tell(self, bot: Bot, admins: Collection[int], error: BaseException, update: object) -> int:
        """Tell every admin of the error unless its kind was told lately; return how many were told."""
        kind = error_kind(error)
        untold = self.due(kind) if admins else None
        if untold is None:
            return 0
        more = t("zh", "alert_untold", count=untold) if untold else ""
        text = t("zh", "alert", command=esc(update_command(update)), error=esc(kind), more=more)
        told = 0
        for admin in sorted(admins):
            try:
                await bot.send_message(admin, text, parse_mode=ParseMode.HTML)
                told += 1
            except TelegramError as failure:
                logger.warning("could not tell admin %s of a %s: %s", admin, kind, failure)
        return told
