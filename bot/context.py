"""The bot's shared state, typed: handlers reach services through `context.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackContext, ExtBot

from bot.texts import language_of

if TYPE_CHECKING:
    from bot.announcements import AnnouncementFollower
    from bot.app import Services
    from bot.outbox import OutboxSender

__all__ = ["BotData", "Context", "is_admin", "lang"]


@dataclass(slots=True)
class BotData:
    """What every handler shares; filled in by `bot.app` before the bot starts."""

    services: Services | None = None
    admins: frozenset[int] = frozenset()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    sender: OutboxSender | None = None
    announcements: AnnouncementFollower | None = None

    @property
    def ready(self) -> Services:
        """Return the services, which exist from start-up on."""
        assert self.services is not None, "bot.app sets the services before the bot starts"
        return self.services


Context = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]


def lang(update: Update) -> str:
    """Return the language to answer this update in."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


def is_admin(update: Update, context: Context) -> bool:
    """Tell whether the update comes from an admin (checked on every call, not when a menu was shown)."""
    user = update.effective_user
    return user is not None and user.id in context.bot_data.admins
