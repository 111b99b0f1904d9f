"""Which script an update is answered in: the subscriber's choice, else the client's language."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import TypeHandler

from bot.script import speak
from bot.services import Context
from bot.texts import script_of
from storage import StorageError, subscriber_script

__all__ = ["KEPT", "SCRIPT_GROUP", "forget_script", "script_handler"]

logger = logging.getLogger(__name__)

SCRIPT_GROUP = -2  # before the flood limiter (-1), whose answer is a reply too
# Seconds a chat's script is kept: a change made through another process shows within them.
KEPT = 60.0
_MAX_KEPT = 100_000


async def choose_script(update: Update, context: Context) -> None:
    """Answer this update's chat in its subscriber's script, or (not a subscriber) in its user's."""
    chat, user = update.effective_chat, update.effective_user
    chosen = None if chat is None else await _chat_script(context, chat.id)
    speak(chat.id if chat else None, chosen or script_of(user.language_code if user else None))


async def _chat_script(context: Context, chat_id: int) -> str | None:
    """Return the script the chat's subscriber chose (None: not a subscriber), read at most every
    `KEPT` seconds: every update asks, and a read per update was a quarter of a command's CPU."""
    kept = context.bot_data.scripts
    now = time.monotonic()
    if (hit := kept.get(chat_id)) is not None and hit[0] > now:
        return hit[1]
    try:
        async with context.bot_data.ready.sessions() as session:
            chosen = await subscriber_script(session=session, chat_id=chat_id)
    except (SQLAlchemyError, StorageError):  # the command's own read will tell the user
        logger.debug("script of chat %s not read", chat_id, exc_info=True)
        return None
    if len(kept) >= _MAX_KEPT:
        kept.clear()
    kept[chat_id] = (now + KEPT, chosen)
    return chosen


def forget_script(context: Context, chat_id: int) -> None:
    """Read the chat's script again on its next update: this process changed its subscription."""
    context.bot_data.scripts.pop(chat_id, None)


def script_handler() -> TypeHandler[Update, Context]:
    """Return the handler that picks every update's script; it never stops the update."""
    return TypeHandler(Update, choose_script)
