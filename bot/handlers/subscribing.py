"""Digest subscriptions: /subscribe [HH:MM], /unsubscribe, /settings, /filter and their buttons.

In a group they are for its administrators only (`chat_admins_only`)."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
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
    Subscriber,
    SubscriberFilter,
    add_filter,
    clear_filters,
    ensure_source,
    followed_sources,
    get_subscriber,
    list_filters,
    remove_filter,
    subscribe,
    toggle_source,
    unsubscribe,
    update_subscriber,
)

__all__ = ["DEFAULT_TIME", "HANDLERS", "MAX_FILTERS", "parse_time"]

DEFAULT_TIME = "08:00"
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_SIZES = (5, 10, 20)
_MAX_KEYWORD = 30
MAX_FILTERS = 20  # keeps /settings, which lists them all, one short message
_CLEAR = frozenset({"clear", "清除"})  # /filter clear: an explicit word, so a bare /filter only lists

Args = tuple[int, ...]  # a press's arguments, as decoded
Shown = tuple[str, InlineKeyboardMarkup | None]  # a reply's text and buttons


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
async def unsubscribe_command(update: Update, context: Context) -> None:
    """Stop this chat's daily digest."""
    assert update.effective_chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        was = await unsubscribe(session=session, chat_id=update.effective_chat.id)
    await _reply(update, t(lang(update), "unsubscribed" if was else "not_subscribed"))


async def _settings_view(session: AsyncSession, subscriber: Subscriber, context: Context, language: str) -> Shown:
    services = context.bot_data.ready
    filters = await list_filters(session=session, subscriber_id=subscriber.id)
    followed = await followed_sources(session=session, subscriber_id=subscriber.id)
    ids = {s.name: await ensure_source(session=session, name=s.name, kind=s.kind, url=s.url) for s in services.sources}
    text = t(
        language,
        "settings",
        time=esc(subscriber.digest_time),
        zone=esc(subscriber.timezone),
        size=subscriber.digest_size,
        filters=esc("、".join(map(_shown_filter, filters)) or t(language, "none")),
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
    assert update.effective_chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        view = (
            None
            if subscriber is None or not subscriber.active
            else await _settings_view(session, subscriber, context, lang(update))
        )
    await _reply(update, *(view or (t(lang(update), "not_subscribed"), None)))


def _shown_filter(item: SubscriberFilter) -> str:
    return ("" if item.include else "-") + item.keyword


def _filter_code(keyword: str) -> int:
    """Return the number a [✕ 词] button names its filter by: the keyword itself may not fit in 64 bytes."""
    return zlib.crc32(keyword.encode())


async def _filters_view(session: AsyncSession, subscriber: Subscriber, language: str) -> Shown:
    filters = await list_filters(session=session, subscriber_id=subscriber.id)
    if not filters:
        return t(language, "no_filters"), None
    rows = [
        [
            InlineKeyboardButton(
                t(language, "remove_filter", filter=_shown_filter(f)),
                callback_data=encode(Action.REMOVE_FILTER, _filter_code(f.keyword)),
            )
        ]
        for f in filters
    ]
    return t(language, "filters_list", filters=esc("、".join(map(_shown_filter, filters)))), InlineKeyboardMarkup(rows)


@chat_admins_only
async def filter_command(update: Update, context: Context) -> None:
    """Add a keyword filter (word keeps, -word drops); with no word list them, with `clear` drop them all."""
    assert update.effective_chat is not None
    language = lang(update)
    wanted = argument(context)
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        if subscriber is None or not subscriber.active:
            await _reply(update, t(language, "not_subscribed"))
            return
        if not wanted:
            await _reply(update, *await _filters_view(session, subscriber, language))
            return
        filters = await list_filters(session=session, subscriber_id=subscriber.id)
        if wanted.lower() in _CLEAR:
            await clear_filters(session=session, subscriber_id=subscriber.id)
            shown = "、".join(map(_shown_filter, filters))
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


class _Refused(Exception):
    """A press that changes nothing; the button's answer says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def _press_toggle_source(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    services = context.bot_data.ready
    known = {await ensure_source(session=session, name=s.name, kind=s.kind, url=s.url) for s in services.sources}
    if args[0] not in known:  # a source no longer configured, or data that was tampered with
        raise _Refused("stale_button")
    try:
        await toggle_source(session=session, subscriber_id=subscriber.id, source_id=args[0], known=known)
    except ValueError:  # the only source followed
        raise _Refused("keep_one_source") from None
    return await _settings_view(session, subscriber, context, language)


async def _press_digest_size(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    if args[0] not in _SIZES:
        raise _Refused("stale_button")
    await update_subscriber(session=session, chat_id=subscriber.chat_id, digest_size=args[0])
    return await _settings_view(session, subscriber, context, language)


async def _press_remove_filter(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    filters = await list_filters(session=session, subscriber_id=subscriber.id)
    named = [f.keyword for f in filters if _filter_code(f.keyword) == args[0]]
    if not named:  # removed already (a double tap, or /filter clear meanwhile)
        raise _Refused("stale_button")
    await remove_filter(session=session, subscriber_id=subscriber.id, keyword=named[0])
    return await _filters_view(session, subscriber, language)


_PRESSES: dict[Action, Callable[[AsyncSession, Subscriber, Context, Args, str], Awaitable[Shown]]] = {
    Action.TOGGLE_SOURCE: _press_toggle_source,
    Action.DIGEST_SIZE: _press_digest_size,
    Action.REMOVE_FILTER: _press_remove_filter,
}


@chat_admins_only
async def on_button(update: Update, context: Context) -> None:
    """Handle the subscription buttons: subscribe, sources, digest size, filters."""
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
    try:
        async with context.bot_data.ready.sessions.begin() as session:
            subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
            if subscriber is None or not subscriber.active:
                raise _Refused("not_subscribed")
            view = await _PRESSES[press.action](session, subscriber, context, press.args, language)
    except _Refused as refused:  # the transaction rolled back: nothing changed
        await query.answer(t(language, refused.key))
        return
    # Always answer, or the client shows a spinner on the button for a long while.
    await query.answer()
    await edit_in_place(query, *view)


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("subscribe", subscribe_command),
    CommandHandler("unsubscribe", unsubscribe_command),
    CommandHandler("settings", settings_command),
    CommandHandler("filter", filter_command),
    CallbackQueryHandler(on_button, pattern=pattern(Action.SUBSCRIBE, *_PRESSES)),
]
