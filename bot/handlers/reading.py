"""Reading commands: /start (and its deep links), /help, /latest, /summary, a digest's /a24, /full,
/search, /sources and their buttons."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import Action, decode, encode, pattern
from bot.handlers.replies import argument, edit_in_place, typed
from bot.handlers.subscribing import subscribe_at_default_time
from bot.render import (
    SUBSCRIBE_PAYLOAD,
    StoredArticle,
    contacts_text,
    esc,
    fetch_failure,
    full_pages,
    latest_message,
    summary_message,
)
from bot.services import Context, is_admin, lang
from bot.texts import ADMIN_COMMANDS, COMMANDS, EN, t
from ingest import Source, canonical_url
from storage import (
    get_article,
    get_article_by_url,
    latest_articles,
    remember_search,
    saved_search_id,
    search_articles,
    searched_words,
)

__all__ = ["HANDLERS", "MAX_ARGUMENT"]

logger = logging.getLogger(__name__)

Args = tuple[int, ...]  # a press's arguments, as decoded

MAX_ARGUMENT = 500  # characters: no article id, URL or search needs more
_LATEST_DEFAULT = 10
_ID_DIGITS = 16  # no id of ours is longer; a longer number would overflow the database's integer
_LATEST_MAX = 30
_SEARCH_PAGE = 10


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False)


async def _too_long(update: Update, argument: str) -> bool:
    if len(argument) > MAX_ARGUMENT:
        await _reply(update, t(lang(update), "too_long", limit=MAX_ARGUMENT))
        return True
    return False


# What a deep link (`bot.render.deep_link`) or a digest's /a24 opens.
_ARTICLE_PAYLOAD = re.compile(r"a(\d{1,16})")
_ARTICLE_COMMAND = re.compile(r"^/a(\d{1,16})(?:@(\w+))?$")


async def start(update: Update, context: Context) -> None:
    """Greet the user and offer the daily digest; with a deep link's payload, do what it names."""
    payload = argument(context)
    if match := _ARTICLE_PAYLOAD.fullmatch(payload):
        await _send_summary(update, context, int(match[1]))
        return
    if payload == SUBSCRIBE_PAYLOAD:
        await subscribe_at_default_time(update, context)
        return
    button = InlineKeyboardButton(t(lang(update), "subscribe_button"), callback_data=encode(Action.SUBSCRIBE))
    await _reply(update, t(lang(update), "welcome"), InlineKeyboardMarkup([[button]]))


async def article_command(update: Update, context: Context) -> None:
    """Show the summary of the article a digest's /a24 names (/a24@bot in a group: ours only)."""
    message = update.effective_message
    match = _ARTICLE_COMMAND.match(message.text or "") if message else None
    if match is None:
        return
    addressed = match[2]
    if addressed and addressed.lower() != (context.bot.username or "").lower():
        return
    await _send_summary(update, context, int(match[1]))


async def help_command(update: Update, context: Context) -> None:
    """List every command, one line each (the admin ones for admins)."""
    language = lang(update)
    column = 2 if language == EN else 1
    lines = [t(language, "help_title")] + [f"/{c[0]} — {esc(c[column])}" for c in COMMANDS]
    if is_admin(update, context):
        lines += ["", t(language, "help_admin")] + [f"/{c[0]} — {esc(c[column])}" for c in ADMIN_COMMANDS]
    await _reply(update, "\n".join(lines))


Shown = tuple[str, InlineKeyboardMarkup | None]  # a reply's text and buttons


async def _show_latest(update: Update, context: Context, *, limit: int, offset: int) -> None:
    language = lang(update)

    async def make() -> Shown:
        async with context.bot_data.ready.sessions() as session:
            rows = await latest_articles(session=session, limit=limit + 1, offset=offset)
        if not rows:
            return t(language, "no_articles"), None
        return latest_message(rows[:limit], language, context.bot_data.zone, offset=offset, more=len(rows) > limit)

    await _reply(update, *await context.bot_data.ready.replies.get(("latest", language, limit, offset), make))


async def latest(update: Update, context: Context) -> None:
    """Show the newest articles, one line each, with a button per article."""
    count = typed(argument(context))
    limit = int(count) if _is_number(count) else _LATEST_DEFAULT
    await _show_latest(update, context, limit=max(1, min(limit, _LATEST_MAX)), offset=0)


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= _ID_DIGITS


def _summary_shown(
    context: Context, article: StoredArticle | None, language: str, missing: str, *, expanded: bool = False
) -> Shown:
    record = getattr(article, "summary", None)
    if article is None or record is None:
        return missing, None
    return summary_message(article, record.to_summary(), language, context.bot_data.zone, expanded=expanded)


async def _send_summary(update: Update, context: Context, article_id: int | None) -> None:
    """Send the summary of article `article_id`, or of the newest article (None)."""
    language = lang(update)

    async def make() -> Shown:
        async with context.bot_data.ready.sessions() as session:
            if article_id is None:
                rows = await latest_articles(session=session, limit=1)
                return _summary_shown(context, rows[0] if rows else None, language, t(language, "no_articles"))
            article = await get_article(session=session, article_id=article_id)
        return _summary_shown(context, article, language, t(language, "not_found", id=article_id))

    await _reply(update, *await context.bot_data.ready.replies.get(("summary", language, article_id), make))


def _site(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # "http://[::1": no host to compare
        return ""
    return (host or "").lower().removeprefix("www.")


def _source_for(url: str, context: Context) -> Source | None:
    """Return the configured web source whose site the URL is on (its host or a subdomain)."""
    host = _site(url)
    for source in context.bot_data.ready.sources:
        site = _site(source.url)
        if site and (host == site or host.endswith("." + site)):
            return source
    return None


async def _summary_of_url(update: Update, context: Context, url: str) -> None:
    """Summarise a page of a configured source: stored already, or fetched now and stored."""
    language = lang(update)
    source = _source_for(url, context)
    if source is None:
        sites = sorted({_site(s.url) for s in context.bot_data.ready.sources if s.url.startswith("http")})
        await _reply(update, t(language, "foreign_host", hosts=esc("、".join(sites) or "—")))
        return
    services = context.bot_data.ready
    async with services.sessions() as session:
        article = await get_article_by_url(session=session, url=canonical_url(url))
    if article is None:
        cause, article_id = await services.ingest_page(url, source)
        if cause is not None or article_id is None:
            await _reply(update, fetch_failure(cause, language))
            return
        async with services.sessions() as session:
            article = await get_article(session=session, article_id=article_id)
    missing = t(language, "fetch_failed", error=t(language, "why_other"))  # deleted meanwhile, or no summary
    await _reply(update, *_summary_shown(context, article, language, missing))


async def summary(update: Update, context: Context) -> None:
    """Show the summary of the newest article, of article ID, of a URL, or of the best match."""
    wanted = argument(context)
    if await _too_long(update, wanted):
        return
    language = lang(update)
    number = typed(wanted)  # an id typed in full-width digits too; words are searched as typed
    if wanted.lower().startswith(("http://", "https://")):  # HTTP:// too: schemes are case-insensitive
        await _summary_of_url(update, context, wanted)
    elif not wanted:
        await _send_summary(update, context, None)
    elif _is_number(number):
        await _send_summary(update, context, int(number))
    elif number.isdigit() and number.isascii():  # too long to be an id of ours
        await _reply(update, t(language, "not_found", id=esc(wanted)))
    else:

        async def make() -> Shown:
            async with context.bot_data.ready.sessions() as session:
                rows = await search_articles(session=session, words=wanted, limit=1)
            missing = t(language, "no_match", words=esc(wanted))
            return _summary_shown(context, rows[0] if rows else None, language, missing)

        await _reply(update, *await context.bot_data.ready.replies.get(("summary of", language, wanted), make))


def _page_buttons(article_id: int, page: int, pages: int, language: str) -> InlineKeyboardMarkup:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(t(language, "prev"), callback_data=encode(Action.FULL, article_id, page - 1)))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(t(language, "next"), callback_data=encode(Action.FULL, article_id, page + 1)))
    back = InlineKeyboardButton(t(language, "back_to_summary"), callback_data=encode(Action.BACK, article_id))
    return InlineKeyboardMarkup([row, [back]] if row else [[back]])


async def _full_page(context: Context, article_id: int, page: int, language: str) -> Shown | None:
    async def make() -> Shown | None:
        async with context.bot_data.ready.sessions() as session:
            article = await get_article(session=session, article_id=article_id)
        if article is None or not article.paragraphs:
            return None
        pages = full_pages(article, context.bot_data.zone)
        shown = min(page, len(pages) - 1)
        text = pages[shown] + (
            f"\n\n<i>{t(language, 'page', page=shown + 1, pages=len(pages))}</i>" if len(pages) > 1 else ""
        )
        return text, _page_buttons(article_id, shown, len(pages), language)

    return await context.bot_data.ready.replies.get(("full", language, article_id, page), make)


async def full(update: Update, context: Context) -> None:
    """Show the full text, a page at a time under Telegram's length limit."""
    wanted = typed(argument(context))
    language = lang(update)
    if not _is_number(wanted):
        await _reply(update, t(language, "bad_id"))
        return
    shown = await _full_page(context, int(wanted), 0, language)
    if shown is None:
        await _reply(update, t(language, "not_found", id=esc(wanted)))
        return
    await _reply(update, *shown)


async def search(update: Update, context: Context) -> None:
    """Search titles and bodies; newest first, a page at a time."""
    words = argument(context)
    if await _too_long(update, words):
        return
    if not words:
        await _reply(update, t(lang(update), "search_hint"))
        return
    await _show_search(update, context, words, offset=0)


async def _search_id(context: Context, words: str) -> int:
    """Return the id the [更多] button names `words` by: any old page's button pages through its own words.

    Words searched before are only read (on SQLite a write transaction waits for the file's lock).
    """
    sessions = context.bot_data.ready.sessions
    async with sessions() as session:
        known = await saved_search_id(session=session, words=words)
    if known is None:
        async with sessions.begin() as session:
            known = await remember_search(session=session, words=words)
    return known


async def _show_search(update: Update, context: Context, words: str, *, offset: int) -> None:
    language = lang(update)

    async def make() -> Shown:
        async with context.bot_data.ready.sessions() as session:
            rows = await search_articles(session=session, words=words, limit=_SEARCH_PAGE + 1, offset=offset)
        if not rows:
            return t(language, "no_match", words=esc(words)), None
        # Inside the kept reply: the same search asked by many at once looks its id up once.
        search_id = await _search_id(context, words)
        return latest_message(
            rows[:_SEARCH_PAGE],
            language,
            context.bot_data.zone,
            offset=offset,
            more=len(rows) > _SEARCH_PAGE,
            search=(search_id, esc(words)),
        )

    await _reply(update, *await context.bot_data.ready.replies.get(("search", language, words, offset), make))


# Each reading button's press: the query is answered exactly once (a second answer is refused),
# or the client shows a spinner on the button for a long while.
async def _press_full(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    shown = await _full_page(context, args[0], args[1], language)
    if shown is None:  # the article was deleted since the page was shown
        await query.answer(t(language, "not_found", id=args[0]))
        return
    await query.answer()
    await edit_in_place(query, *shown)


async def _press_summary(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    await query.answer()
    await _send_summary(update, context, args[0])


async def _edit_to_summary(
    query: CallbackQuery, context: Context, article_id: int, language: str, *, expanded: bool
) -> None:
    async with context.bot_data.ready.sessions() as session:
        article = await get_article(session=session, article_id=article_id)
    missing = t(language, "not_found", id=article_id)
    text, markup = _summary_shown(context, article, language, missing, expanded=expanded)
    if markup is None:  # the article was deleted since its summary was shown
        await query.answer(text)
        return
    await query.answer()
    await edit_in_place(query, text, markup)


async def _press_directives(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    await _edit_to_summary(query, context, args[0], language, expanded=bool(args[1]))


async def _press_back(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    await _edit_to_summary(query, context, args[0], language, expanded=False)


async def _press_contacts(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    async with context.bot_data.ready.sessions() as session:
        article = await get_article(session=session, article_id=args[0])
    if article is None:
        await query.answer(t(language, "not_found", id=args[0]))
        return
    await query.answer()
    await _reply(update, contacts_text([(None, article.contacts)], language))


async def _press_latest(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    await query.answer()
    await _show_latest(update, context, limit=_LATEST_DEFAULT, offset=args[0])


async def _press_search(query: CallbackQuery, update: Update, context: Context, args: Args, language: str) -> None:
    search_id, offset = args
    async with context.bot_data.ready.sessions() as session:
        words = await searched_words(session=session, search_id=search_id)
    if words is None:  # a button of another database, or tampered with
        await query.answer(t(language, "stale_button"))
        return
    await query.answer()
    await _show_search(update, context, words, offset=offset)


_PRESSES: dict[Action, Callable[[CallbackQuery, Update, Context, Args, str], Awaitable[None]]] = {
    Action.FULL: _press_full,
    Action.BACK: _press_back,
    Action.SUMMARY: _press_summary,
    Action.DIRECTIVES: _press_directives,
    Action.CONTACTS: _press_contacts,
    Action.LATEST: _press_latest,
    Action.SEARCH: _press_search,
}


async def on_button(update: Update, context: Context) -> None:
    """Handle the reading buttons: summary, full-text pages and back, directives, contacts, more results."""
    query = update.callback_query
    assert query is not None
    language = lang(update)
    try:
        press = decode(query.data)
    except ValueError:
        await query.answer(t(language, "stale_button"))
        return
    await _PRESSES[press.action](query, update, context, press.args, language)


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("start", start),
    MessageHandler(filters.Regex(_ARTICLE_COMMAND), article_command),
    CommandHandler("help", help_command),
    CommandHandler("latest", latest),
    CommandHandler("summary", summary),
    CommandHandler("full", full),
    CommandHandler("search", search),
    CallbackQueryHandler(
        on_button,
        pattern=pattern(*_PRESSES),
    ),
]
