"""What the handlers share to read a user's text and answer a button in place."""

from __future__ import annotations

import re
import unicodedata

from telegram import CallbackQuery, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.services import Context

__all__ = ["argument", "clean", "edit_in_place", "typed"]

# Control characters but newline and tab: Telegram drops them from what it shows, and PostgreSQL
# refuses NUL in a text column, so a report or a filter holding one could not be stored.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Return `text` without control characters (newlines and tabs stay)."""
    return _CONTROL.sub("", text)


def typed(text: str) -> str:
    """Return `text` with what Chinese input methods type full-width in ASCII (１２ → 12, ０７：３０ → 07:30)."""
    return unicodedata.normalize("NFKC", text)


def argument(context: Context) -> str:
    """Return the command's argument: its words joined by single spaces, control characters dropped."""
    return clean(" ".join(context.args or [])).strip()


async def edit_in_place(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Show `text` in the message whose button was pressed.

    A double tap asks for the text already shown: nothing to do. A message deleted between the
    press and the edit, or too old to edit, cannot show it: it comes as a new message instead.
    """
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        reason = error.message.lower()
        if "not modified" in reason:
            return
        if query.message is None or not ("not found" in reason or "can't be edited" in reason):
            raise
        await query.message.chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
