"""What is left: unknown commands and free text get a short hint. Registered last."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot.context import Context, lang
from bot.texts import t

__all__ = ["HANDLERS"]


async def unknown_command(update: Update, context: Context) -> None:
    """Point to /help."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "unknown_command"), do_quote=False)


async def free_text(update: Update, context: Context) -> None:
    """Point to /summary and /help."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "free_text"), do_quote=False)


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
    MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, free_text),
]
