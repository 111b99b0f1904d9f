"""/digest: what the chat's next digest holds now, and the digest's button showing the rest.

Neither moves the digest's mark: the scheduled digest still holds every article shown here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import Action, decode, pattern
from bot.delivery import digest_items
from bot.render import digest_messages, esc
from bot.services import Context, lang
from bot.texts import t
from storage import digest_page, get_subscriber

__all__ = ["HANDLERS", "show_next_digest"]


async def show_next_digest(update: Update, context: Context, offset: int = 0) -> None:
    """Send what waits for this chat's next digest, a digest's worth from `offset` on."""
    chat = update.effective_chat
    assert chat is not None
    language = lang(update)
    now = datetime.now(UTC)
    async with context.bot_data.ready.sessions() as session:
        subscriber = await get_subscriber(session=session, chat_id=chat.id)
        if subscriber is None or not subscriber.active:
            await chat.send_message(t(language, "not_subscribed"), parse_mode=ParseMode.HTML)
            return
        page = await digest_page(session=session, subscriber=subscriber, until=now, offset=offset)
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    title = t(language, "digest_preview_title", time=esc(local.strftime("%Y-%m-%d %H:%M")))
    shown = offset + len(page.entries)
    for text, markup in digest_messages(digest_items(page), language, title, more=page.remaining, more_offset=shown):
        await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True)


async def digest_command(update: Update, context: Context) -> None:
    """Show the chat's next digest as it stands."""
    await show_next_digest(update, context)


async def on_button(update: Update, context: Context) -> None:
    """Show the rest of a digest: what waits for the next one, from the button's offset."""
    query = update.callback_query
    assert query is not None
    try:
        press = decode(query.data)
    except ValueError:
        await query.answer(t(lang(update), "stale_button"))
        return
    await query.answer()
    await show_next_digest(update, context, press.args[0])


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("digest", digest_command),
    CallbackQueryHandler(on_button, pattern=pattern(Action.DIGEST)),
]
