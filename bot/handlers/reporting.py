"""/report: the reporting contacts of the sources, or a user's report filed with the admins (through the
outbox); an admin's Telegram reply to a report's notice answers the reporter (through the outbox too)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.delivery import enqueue_report_answer, enqueue_report_notice
from bot.handlers.fallback import free_text
from bot.handlers.replies import argument, clean
from bot.render import contacts_text
from bot.services import Context, is_admin, lang
from bot.texts import t
from storage import create_report, recent_contacts, report_of_notice

__all__ = ["HANDLERS", "MAX_REPORT"]

MAX_REPORT = 2000  # characters: a report is a message, not a document


async def report(update: Update, context: Context) -> None:
    """Show how to report (contacts), or file the text (or the replied message) as a report."""
    message = update.effective_message
    if message is None:
        return
    language = lang(update)
    text = argument(context)
    if not text and message.reply_to_message is not None:
        text = clean(message.reply_to_message.text or message.reply_to_message.caption or "").strip()
    services = context.bot_data.ready
    if not text:
        # A configured source's own hotlines head the list under its name; the pages' follow by outlet.
        configured = [
            (s.name, [{"label": c.label, "value": c.value} for c in s.contacts]) for s in services.sources if s.contacts
        ]
        async with services.sessions() as session:
            found = await recent_contacts(session=session)
        body = contacts_text([*configured, *found.items()], language) + "\n\n" + t(language, "report_hint")
        await message.reply_text(body, parse_mode=ParseMode.HTML, do_quote=False)
        return
    if len(text) > MAX_REPORT:
        await message.reply_text(t(language, "too_long", limit=MAX_REPORT), do_quote=False)
        return
    user, chat = update.effective_user, update.effective_chat
    assert chat is not None
    async with services.sessions.begin() as session:
        ticket = await create_report(
            session=session,
            user_id=user.id if user else None,
            chat_id=chat.id,
            name=user.full_name if user else None,
            username=user.username if user else None,
            text=text,
        )
        # The admins' notices commit with the report: acknowledged means it will reach them.
        await enqueue_report_notice(session, report=ticket, admins=context.bot_data.admins)
    if context.bot_data.sender is not None:
        context.bot_data.sender.wake()
    await message.reply_text(t(language, "report_ack", ticket=ticket.id), parse_mode=ParseMode.HTML, do_quote=False)


async def answer(update: Update, context: Context) -> None:
    """Send an admin's reply to a report's notice to the reporter and mark the report answered;
    any other reply in a private chat is free text, as before."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if message is None or replied is None or not is_admin(update, context):
        await free_text(update, context)
        return
    language = lang(update)
    text = clean(message.text or "").strip()
    services = context.bot_data.ready
    async with services.sessions.begin() as session:
        ticket = await report_of_notice(session=session, chat_id=message.chat_id, message_id=replied.message_id)
        if ticket is not None and text and len(text) <= MAX_REPORT:
            await enqueue_report_answer(
                session, report=ticket, answer=text, admin=message.chat_id, reply_id=message.message_id
            )
    if ticket is None:
        await free_text(update, context)
        return
    if len(text) > MAX_REPORT:
        await message.reply_text(t(language, "too_long", limit=MAX_REPORT), do_quote=False)
        return
    if context.bot_data.sender is not None:
        context.bot_data.sender.wake()
    await message.reply_text(t(language, "answer_sent", ticket=ticket.id), do_quote=False)


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("report", report),
    # Before the fallbacks, which would take the reply as free text.
    MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, answer),
]
