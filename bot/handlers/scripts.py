"""Which script an update is answered in: the subscriber's choice, else the client's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.script import speak
from bot.services import Context
from bot.texts import script_of

__all__ = ["SCRIPT_GROUP", "script_handler"]

SCRIPT_GROUP = -2  # before the flood limiter (-1), whose answer is a reply too


async def choose_script(update: Update, context: Context) -> None:
    """Answer this update's chat in its subscriber's script, or (not a subscriber) in its user's."""
    chat, user = update.effective_chat, update.effective_user
    chosen = None if chat is None else await context.bot_data.scripts.of(context.bot_data.ready.sessions, chat.id)
    speak(chat.id if chat else None, chosen or script_of(user.language_code if user else None))


def script_handler() -> TypeHandler[Update, Context]:
    """Return the handler that picks every update's script; it never stops the update."""
    return TypeHandler(Update, choose_script)
