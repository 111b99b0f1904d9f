"""Digest subscriptions: /subscribe [HH:MM], /unsubscribe, /settings, /filter and their buttons.

In a group they are for its administrators only (`chat_admins_only`)."""

from __future__ import annotations

import re
import unicodedata

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import Action, decode, encode, pattern
from bot.handlers.chat_admins import chat_admins_only, from_anonymous_admin
from bot.handlers.replies import argument, edit_in_place, typed
from bot.render import esc
from bot.services import Context, lang
from bot.texts import t
from storage import (
    add_filter,
    clear_filters,
    ensure_source,
    followed_sources,
    get_subscriber,
    list_filters,
    subscribe,
    toggle_source,
    unsubscribe,
    update_subscriber,
)

__all__ = ["DEFAULT_TIME", "HANDLERS", "MAX_FILTERS", "parse_time", "subscribe_at_default_time"]

DEFAULT_TIME = "08:00"
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_SIZES = (5, 10, 20)
_MAX_KEYWORD = 30
MAX_FILTERS = 20  # keeps /settings, which lists them all, one short message


def parse_time(text: str) -> str | None:
    """Return HH:MM for a digest time written as 7:30, 07:30 or ０７：３０, or None."""
    m = _TIME.fullmatch(typed(text).strip())
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False)


async def _subscribe(update: Update, context: Context, when: str) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await subscribe(
            session=session,
            chat_id=chat.id,
            user_id=user.id if user and not from_anonymous_admin(update) else None,
            kind=chat.type,
            language=lang(update),
            digest_time=when,
        )
    await _reply(update, t(lang(update), "subscribed", time=when, zone=esc(subscriber.timezone)))


@chat_admins_only
async def subscribe_command(update: Update, context: Context) -> None:
    """Subscribe this chat to the daily digest, at the time given or 08:00."""
    wanted = argument(context)
    when = parse_time(wanted) if wanted else DEFAULT_TIME
    if when is None:
        await _reply(update, t(lang(update), "bad_time"))
        return
    await _subscribe(update, context, when)


@chat_admins_only
async def subscribe_at_default_time(update: Update, context: Context) -> None:
    """Subscribe this chat at 08:00, or re-activate it at its own time: what /start digest does."""
    await _subscribe(update, context, DEFAULT_TIME)


@chat_admins_only
async def unsubscribe_command(update: Update, context: Context) -> None:
    """Stop this chat's daily digest."""
    assert update.effective_chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        was = await unsubscribe(session=session, chat_id=update.effective_chat.id)
    await _reply(update, t(lang(update), "unsubscribed" if was else "not_subscribed"))


async def _settings_view(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup] | None:
    assert update.effective_chat is not None
    language = lang(update)
    services = context.bot_data.ready
    async with services.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        if subscriber is None or not subscriber.active:
            return None
        filters = await list_filters(session=session, subscriber_id=subscriber.id)
        followed = await followed_sources(session=session, subscriber_id=subscriber.id)
        ids = {
            s.name: await ensure_source(session=session, name=s.name, kind=s.kind, url=s.url) for s in services.sources
        }
    shown = "、".join(("" if f.include else "-") + f.keyword for f in filters) or t(language, "none")
    text = t(
        language,
        "settings",
        time=esc(subscriber.digest_time),
        zone=esc(subscriber.timezone),
        size=subscriber.digest_size,
        filters=esc(shown),
    )
    # No rows followed means all sources.
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if not followed or ids[name] in followed else "  ") + name,
                callback_data=encode(Action.TOGGLE_SOURCE, ids[name]),
            )
        ]
        for name in ids
    ]
    rows.append(
        [
            InlineKeyboardButton(
                ("✓ " if subscriber.digest_size == n else "") + str(n), callback_data=encode(Action.DIGEST_SIZE, n)
            )
            for n in _SIZES
        ]
    )
    return text, InlineKeyboardMarkup(rows)


@chat_admins_only
async def settings_command(update: Update, context: Context) -> None:
    """Show the digest time, size, filters and source toggles."""
    view = await _settings_view(update, context)
    if view is None:
        await _reply(update, t(lang(update), "not_subscribed"))
        return
    await _reply(update, *view)


@chat_admins_only
async def filter_command(update: Update, context: Context) -> None:
    """Add a keyword filter (word keeps, -word drops); with no word, list and clear them."""
    assert update.effective_chat is not None
    language = lang(update)
    wanted = argument(context)
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        if subscriber is None or not subscriber.active:
            await _reply(update, t(language, "not_subscribed"))
            return
        filters = await list_filters(session=session, subscriber_id=subscriber.id)
        if not wanted:
            await clear_filters(session=session, subscriber_id=subscriber.id)
            shown = "、".join(("" if f.include else "-") + f.keyword for f in filters)
            await _reply(
                update, t(language, "filters_cleared", filters=esc(shown)) if shown else t(language, "no_filters")
            )
            return
        if len(wanted) > _MAX_KEYWORD:
            await _reply(update, t(language, "too_long", limit=_MAX_KEYWORD))
            return
        include = not wanted.startswith("-")
        keyword = wanted.lstrip("-").strip()
        if not _visible(keyword):  # "-" alone, or only zero-width and bidi marks: it would match nothing
            await _reply(update, t(language, "bad_filter"))
            return
        if len(filters) >= MAX_FILTERS and keyword not in {f.keyword for f in filters}:
            await _reply(update, t(language, "too_many_filters", limit=MAX_FILTERS))
            return
        await add_filter(session=session, subscriber_id=subscriber.id, keyword=keyword, include=include)
    await _reply(update, t(language, "filter_added", filter=esc(wanted)))


def _visible(text: str) -> bool:
    """Tell whether `text` shows anything: not only spaces, format (zero-width, bidi) and control characters."""
    return any(unicodedata.category(c)[0] not in "ZC" for c in text)


@chat_admins_only
async def on_button(update: Update, context: Context) -> None:
    """Handle subscribe, source-toggle and digest-size buttons."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    language = lang(update)
    try:
        press = decode(query.data)
    except ValueError:
        await query.answer(t(language, "stale_button"))
        return
    if press.action is Action.SUBSCRIBE:
        await query.answer()
        await _subscribe(update, context, DEFAULT_TIME)
        return
    services = context.bot_data.ready
    async with services.sessions.begin() as session:
        known = {await ensure_source(session=session, name=s.name, kind=s.kind, url=s.url) for s in services.sources}
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        if subscriber is None or not subscriber.active:
            await query.answer(t(language, "not_subscribed"))
            return
        if press.action is Action.TOGGLE_SOURCE:
            if press.args[0] not in known:  # a source no longer configured, or data that was tampered with
                await query.answer(t(language, "stale_button"))
                return
            try:
                await toggle_source(session=session, subscriber_id=subscriber.id, source_id=press.args[0], known=known)
            except ValueError:  # the only source followed
                await query.answer(t(language, "keep_one_source"))
                return
        elif press.args[0] not in _SIZES:
            await query.answer(t(language, "stale_button"))
            return
        else:
            await update_subscriber(session=session, chat_id=subscriber.chat_id, digest_size=press.args[0])
    # Always answer, or the client shows a spinner on the button for a long while.
    await query.answer()
    view = await _settings_view(update, context)
    if view is not None:
        await edit_in_place(query, *view)


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("subscribe", subscribe_command),
    CommandHandler("unsubscribe", unsubscribe_command),
    CommandHandler("settings", settings_command),
    CommandHandler("filter", filter_command),
    CallbackQueryHandler(on_button, pattern=pattern(Action.SUBSCRIBE, Action.TOGGLE_SOURCE, Action.DIGEST_SIZE)),
]
