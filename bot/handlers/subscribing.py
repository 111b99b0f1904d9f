"""Digest subscriptions: /subscribe [HH:MM], /unsubscribe, /settings [tz ZONE] (and 简体 / 繁體),
/filter, /sources and their buttons.

In a group they change the group's subscription, for its administrators only (`chat_admins_only`);
/sources lists the sources to anyone, its buttons are the administrators'."""

from __future__ import annotations

import functools
import re
import unicodedata
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import Action, decode, encode, pattern
from bot.handlers.chat_admins import chat_admins_only, from_anonymous_admin
from bot.handlers.replies import argument, edit_in_place, typed
from bot.render import esc
from bot.script import speak
from bot.services import Context, lang
from bot.texts import SCRIPTS, script_of, t
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

__all__ = ["HANDLERS", "MAX_FILTERS", "ZONES", "parse_time", "subscribe_at_default_time"]

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_SIZES = (5, 10, 20)
_SCRIPT_LABELS = ("简体", "繁體")  # each in its own script, as language pickers name them
_TIMES = (time(7), time(8), time(12), time(18), time(21))  # offered under /subscribe's answer
# Offered as buttons under /settings tz, for readers at home and abroad; any other is typed.
ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
)
_TZ = frozenset({"tz", "时区"})
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


def _hh_mm(at: time) -> str:
    """Return a digest time as people write it: 07:30, not 07:30:00."""
    return at.strftime("%H:%M")


def _subscribed_view(subscriber: Subscriber, language: str, *, offer_times: bool) -> Shown:
    text = t(language, "subscribed", time=_hh_mm(subscriber.digest_time), zone=esc(subscriber.timezone))
    if not offer_times:
        return text, None
    row = [
        InlineKeyboardButton(
            ("✓ " if at == subscriber.digest_time else "") + _hh_mm(at),
            callback_data=encode(Action.DIGEST_TIME, at.hour * 60 + at.minute),
        )
        for at in _TIMES
    ]
    return f"{text}\n{t(language, 'pick_time')}", InlineKeyboardMarkup([row])


async def _subscribe(update: Update, context: Context, when: str | None) -> None:
    """Subscribe the chat at `when`, or (None) at the default time or the one it had, offering others."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await subscribe(
            session=session,
            chat_id=chat.id,
            user_id=user.id if user and not from_anonymous_admin(update) else None,
            kind=chat.type,
            language=lang(update),
            script=script_of(user.language_code if user else None),
            digest_time=when,
        )
    context.bot_data.scripts.set(chat.id, subscriber.script)
    await _reply(update, *_subscribed_view(subscriber, lang(update), offer_times=when is None))


@chat_admins_only
async def subscribe_command(update: Update, context: Context) -> None:
    """Subscribe this chat to the daily digest, at the time given, or at 08:00 with buttons to change it."""
    wanted = argument(context)
    when = parse_time(wanted) if wanted else None
    if wanted and when is None:
        await _reply(update, t(lang(update), "bad_time"))
        return
    await _subscribe(update, context, when)


@chat_admins_only
async def subscribe_at_default_time(update: Update, context: Context) -> None:
    """Subscribe this chat at 08:00, or re-activate it at its own time: what /start digest does."""
    await _subscribe(update, context, None)


@chat_admins_only
async def unsubscribe_command(update: Update, context: Context) -> None:
    """Stop this chat's daily digest."""
    assert update.effective_chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        was = await unsubscribe(session=session, chat_id=update.effective_chat.id)
    await _reply(update, t(lang(update), "unsubscribed" if was else "not_subscribed"))


async def _source_ids(session: AsyncSession, context: Context) -> dict[str, int]:
    """Return the configured sources' ids by name, in the configuration's order."""
    return {
        s.name: await ensure_source(session=session, name=s.name, kind=s.kind, url=s.url)
        for s in context.bot_data.ready.sources
    }


async def _settings_view(session: AsyncSession, subscriber: Subscriber, context: Context, language: str) -> Shown:
    filters = await list_filters(session=session, subscriber_id=subscriber.id)
    followed = set(await followed_sources(session=session, subscriber_id=subscriber.id))
    names = [name for name, id_ in (await _source_ids(session, context)).items() if id_ in followed]
    text = t(
        language,
        "settings",
        time=_hh_mm(subscriber.digest_time),
        zone=esc(subscriber.timezone),
        size=subscriber.digest_size,
        sources=esc("、".join(names)) if followed else t(language, "all_sources"),  # none followed means all
        filters=esc("、".join(map(_shown_filter, filters)) or t(language, "none")),
    )
    row = [
        InlineKeyboardButton(
            ("✓ " if subscriber.digest_size == n else "") + str(n), callback_data=encode(Action.DIGEST_SIZE, n)
        )
        for n in _SIZES
    ]
    scripts = [
        InlineKeyboardButton(
            ("✓ " if subscriber.script == script else "") + label, callback_data=encode(Action.SCRIPT, n)
        )
        for n, (script, label) in enumerate(zip(SCRIPTS, _SCRIPT_LABELS, strict=True))
    ]
    return text, InlineKeyboardMarkup([row, scripts])


def _timezone_view(subscriber: Subscriber, language: str) -> Shown:
    now = datetime.now(ZoneInfo(subscriber.timezone)).strftime("%H:%M")
    buttons = [
        InlineKeyboardButton(
            ("✓ " if zone == subscriber.timezone else "") + zone, callback_data=encode(Action.TIMEZONE, n)
        )
        for n, zone in enumerate(ZONES)
    ]
    rows = [buttons[n : n + 2] for n in range(0, len(buttons), 2)]
    return t(language, "timezone", zone=esc(subscriber.timezone), now=now), InlineKeyboardMarkup(rows)


@functools.cache
def _zone_names() -> dict[str, str]:
    """Return the IANA time zone names known here, by their lower case: europe/berlin finds Europe/Berlin."""
    return {name.lower(): name for name in available_timezones()}


async def _settings_timezone(session: AsyncSession, subscriber: Subscriber, wanted: str, language: str) -> Shown:
    """Answer /settings tz [ZONE]: set the zone typed (an IANA name, any case), and offer common ones."""
    if wanted:
        zone = _zone_names().get(wanted.replace(" ", "_").lower())
        if zone is None:
            return t(language, "bad_timezone", zone=esc(wanted[:64])), None
        subscriber = await update_subscriber(session=session, chat_id=subscriber.chat_id, timezone=zone) or subscriber
    return _timezone_view(subscriber, language)


@chat_admins_only
async def settings_command(update: Update, context: Context) -> None:
    """Show the digest time, size, sources and filters; `/settings tz [ZONE]` shows or sets the time zone."""
    assert update.effective_chat is not None
    language = lang(update)
    head, _, rest = argument(context).partition(" ")
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        if subscriber is None or not subscriber.active:
            view: Shown = (t(language, "not_subscribed"), None)
        elif head.lower() in _TZ:
            view = await _settings_timezone(session, subscriber, rest.strip(), language)
        else:
            view = await _settings_view(session, subscriber, context, language)
    await _reply(update, *view)


async def _sources_view(session: AsyncSession, subscriber: Subscriber | None, context: Context, language: str) -> Shown:
    services = context.bot_data.ready
    lines = [t(language, "sources_title")]
    lines += [
        f"• {esc(s.name)}" + (f"  <i>{esc(s.url)}</i>" if s.url.startswith("http") else "") for s in services.sources
    ]
    if subscriber is None or not subscriber.active:
        return "\n".join([*lines, "", t(language, "sources_subscribe")]), None
    followed = await followed_sources(session=session, subscriber_id=subscriber.id)
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if not followed or id_ in followed else "＋ ") + name,  # none followed means all
                callback_data=encode(Action.TOGGLE_SOURCE, id_),
            )
        ]
        for name, id_ in (await _source_ids(session, context)).items()
    ]
    return "\n".join([*lines, "", t(language, "sources_follow")]), InlineKeyboardMarkup(rows)


async def sources_command(update: Update, context: Context) -> None:
    """List the configured sources, each with a button to follow or unfollow it in this chat's digest."""
    assert update.effective_chat is not None
    async with context.bot_data.ready.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=update.effective_chat.id)
        view = await _sources_view(session, subscriber, context, lang(update))
    await _reply(update, *view)


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
    known = set((await _source_ids(session, context)).values())
    if args[0] not in known:  # a source no longer configured, or data that was tampered with
        raise _Refused("stale_button")
    try:
        await toggle_source(session=session, subscriber_id=subscriber.id, source_id=args[0], known=known)
    except ValueError:  # the only source followed
        raise _Refused("keep_one_source") from None
    return await _sources_view(session, subscriber, context, language)


async def _press_digest_time(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    hours, minutes = divmod(args[0], 60)
    if hours >= 24:  # not a time of day: tampered with
        raise _Refused("stale_button")
    row = await update_subscriber(session=session, chat_id=subscriber.chat_id, digest_time=time(hours, minutes))
    return _subscribed_view(row or subscriber, language, offer_times=True)


async def _press_timezone(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    if args[0] >= len(ZONES):
        raise _Refused("stale_button")
    row = await update_subscriber(session=session, chat_id=subscriber.chat_id, timezone=ZONES[args[0]])
    return _timezone_view(row or subscriber, language)


async def _press_digest_size(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    if args[0] not in _SIZES:
        raise _Refused("stale_button")
    await update_subscriber(session=session, chat_id=subscriber.chat_id, digest_size=args[0])
    return await _settings_view(session, subscriber, context, language)


async def _press_script(
    session: AsyncSession, subscriber: Subscriber, context: Context, args: Args, language: str
) -> Shown:
    if args[0] >= len(SCRIPTS):
        raise _Refused("stale_button")
    row = await update_subscriber(session=session, chat_id=subscriber.chat_id, script=SCRIPTS[args[0]])
    speak(subscriber.chat_id, SCRIPTS[args[0]])  # the settings shown next are in the script chosen
    context.bot_data.scripts.set(subscriber.chat_id, SCRIPTS[args[0]])
    return await _settings_view(session, row or subscriber, context, language)


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
    Action.DIGEST_TIME: _press_digest_time,
    Action.TIMEZONE: _press_timezone,
    Action.SCRIPT: _press_script,
}


@chat_admins_only
async def on_button(update: Update, context: Context) -> None:
    """Handle the subscription buttons: subscribe, digest time, time zone, size, sources, filters."""
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
        await _subscribe(update, context, None)
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
    CommandHandler("sources", sources_command),
    CallbackQueryHandler(on_button, pattern=pattern(Action.SUBSCRIBE, *_PRESSES)),
]
