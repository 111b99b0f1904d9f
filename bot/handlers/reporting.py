"""/report: the reporting contacts of the sources, or a user's report filed with the admins (through the outbox)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CommandHandler

from bot.delivery import enqueue_report_notice
from bot.handlers.replies import argument, clean
from bot.render import contacts_text
from bot.services import Context, lang
from bot.texts import t
from storage import create_report, recent_contacts

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


HANDLERS: list[BaseHandler[Update, Context, None]] = [CommandHandler("report", report)]
