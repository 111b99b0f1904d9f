"""What is left: unknown commands and free text get a short hint, buttons nobody knows are
answered as expired, and edited commands are not run again. `EDITS` goes first, `HANDLERS` last."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.services import Context, lang
from bot.texts import t

__all__ = ["EDITS", "HANDLERS"]


async def unknown_command(update: Update, context: Context) -> None:
    """Point to /help."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "unknown_command"), do_quote=False)


async def free_text(update: Update, context: Context) -> None:
    """Point to /summary and /help."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "free_text"), do_quote=False)


async def edited_command(update: Update, context: Context) -> None:
    """Say an edited command is not run again: running it would file a report twice, or make a
    second announcement draft beside the first."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "edited"), do_quote=False)


async def unknown_button(update: Update, context: Context) -> None:
    """Answer a press whose data no handler takes (a keyboard of an older version, tampered data),
    or the client shows a spinner on the button for a long while."""
    if update.callback_query is not None:
        await update.callback_query.answer(t(lang(update), "stale_button"))


EDITS: list[BaseHandler[Update, Context, None]] = [
    MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND, edited_command),
]

HANDLERS: list[BaseHandler[Update, Context, None]] = [
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
    MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, free_text),
    CallbackQueryHandler(unknown_button),
]
