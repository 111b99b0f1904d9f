"""Admin commands: /announce (preview → send through the outbox, with a live tally), /stats,
/ingest, /reports and /channel. The user id is checked on every call and every button press."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import Action, decode, encode, pattern
from bot.handlers.replies import argument, clean, edit_in_place
from bot.render import LIMIT, esc, esc_user
from bot.services import Context, is_admin, lang
from bot.texts import t
from storage import (
    AnnouncementStatus,
    article_count_by_source,
    bind_channel,
    count_reports,
    count_subscribers,
    create_announcement,
    delivery_stats,
    get_announcement,
    list_sources_health,
    recent_reports,
    set_announcement_status,
    update_announcement,
)

__all__ = ["HANDLERS", "MAX_ANNOUNCEMENT"]

logger = logging.getLogger(__name__)

MAX_ANNOUNCEMENT = 3500  # characters, leaving room for the heading within Telegram's 4,096


async def _refuse(update: Update, context: Context) -> bool:
    """Refuse a non-admin politely and log the attempt; return True when refused."""
    if is_admin(update, context):
        return False
    user = update.effective_user
    logger.warning("refused admin action from user %s", user.id if user else None)
    if update.callback_query is not None:
        await update.callback_query.answer(t(lang(update), "admins_only"), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(t(lang(update), "admins_only"), do_quote=False)
    return True


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    if update.effective_message is None:
        return None
    return await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False
    )


async def announce(update: Update, context: Context) -> None:
    """Preview an announcement with [发送] [取消]."""
    if await _refuse(update, context):
        return
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    language = lang(update)
    text = _announcement_text(message)
    if not text and message.reply_to_message is not None:
        text = clean(message.reply_to_message.text_html or "").strip()
    if not text:
        await _reply(update, t(language, "announce_hint"))
        return
    if len(text) > MAX_ANNOUNCEMENT:
        await _reply(update, t(language, "too_long", limit=MAX_ANNOUNCEMENT))
        return
    async with context.bot_data.ready.sessions.begin() as session:
        announcement = await create_announcement(session=session, author_user_id=update.effective_user.id, text=text)
        count = await count_subscribers(session=session, active=True)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(language, "send"), callback_data=encode(Action.ANNOUNCE, announcement.id)),
                InlineKeyboardButton(
                    t(language, "cancel"), callback_data=encode(Action.CANCEL_ANNOUNCE, announcement.id)
                ),
            ]
        ]
    )
    try:
        await _reply(update, t(language, "announce_preview", count=count, text=text), buttons)
    except BadRequest:
        # The admin's own HTML (from a reply) did not parse: show it escaped instead.
        await _reply(update, t(language, "announce_preview", count=count, text=esc(text)), buttons)


def _announcement_text(message: Message) -> str:
    """Return what follows the command, on its line or the next, with its formatting as HTML.

    Formatting that spans the command itself would be cut by taking the rest: then plain text.
    """
    plain = (message.text or "").split(maxsplit=1)
    if len(plain) < 2:
        return ""
    formatted = message.text_html.split(maxsplit=1)
    rest = formatted[1] if len(formatted) == 2 and formatted[0] == plain[0] else esc(plain[1])
    return clean(rest).strip()


async def on_button(update: Update, context: Context) -> None:
    """Send or cancel an announcement (admins only, checked again here)."""
    query = update.callback_query
    assert query is not None
    if await _refuse(update, context):
        return
    language = lang(update)
    try:
        press = decode(query.data)
    except ValueError:
        await query.answer(t(language, "stale_button"))
        return
    sessions = context.bot_data.ready.sessions
    async with sessions.begin() as session:
        announcement = await get_announcement(session=session, announcement_id=press.args[0])
    if announcement is None or announcement.status is not AnnouncementStatus.DRAFT:  # sent or cancelled already
        await query.answer(t(language, "stale_button"))
        return
    await query.answer()
    if press.action is Action.CANCEL_ANNOUNCE:
        async with sessions.begin() as session:
            await set_announcement_status(
                session=session,
                announcement_id=announcement.id,
                status=AnnouncementStatus.CANCELLED,
                expected=AnnouncementStatus.DRAFT,
            )
        await edit_in_place(query, t(language, "cancelled"))
        return
    progress = query.message
    async with sessions.begin() as session:
        started = await set_announcement_status(
            session=session,
            announcement_id=announcement.id,
            status=AnnouncementStatus.SENDING,
            expected=AnnouncementStatus.DRAFT,
        )
        if started and isinstance(progress, Message):
            # The preview becomes the progress message, edited by the delivery loop from the outbox's tally.
            await update_announcement(
                session=session,
                announcement_id=announcement.id,
                preview_chat_id=progress.chat_id,
                preview_message_id=progress.message_id,
            )
    # Another admin (or a double tap) may have started it already; either way the loop sends it.
    if started and context.bot_data.announcements is not None:
        context.bot_data.announcements.wake()


async def stats(update: Update, context: Context) -> None:
    """Show subscribers, articles per source, the last ingest and deliveries."""
    if await _refuse(update, context):
        return
    async with context.bot_data.ready.sessions() as session:
        active = await count_subscribers(session=session, active=True)
        total = await count_subscribers(session=session, active=None)
        per_source = await article_count_by_source(session=session)
        health = await list_sources_health(session=session)
        deliveries = await delivery_stats(session=session, since=datetime.now(UTC) - timedelta(days=1))
    recent = {str(status): count for status, count in deliveries.outbox_recent.items()}
    last = max((h.last_success_at for h in health if h.last_success_at), default=None)
    zone = context.bot_data.zone
    lines = "\n".join(f"• {esc(name)}：{count}" for name, count in sorted(per_source.items()))
    await _reply(
        update,
        t(
            lang(update),
            "stats",
            active=active,
            total=total,
            articles=sum(per_source.values()),
            last_ingest=last.astimezone(zone).strftime("%Y-%m-%d %H:%M") if last else "—",
            per_source=lines,
            **{k: recent.get(k, 0) for k in ("sent", "blocked", "failed", "pending")},
        ),
    )


async def ingest_now(update: Update, context: Context) -> None:
    """Run one ingest pass now, over every source or the one named."""
    if await _refuse(update, context):
        return
    services = context.bot_data.ready
    name = argument(context)
    chosen = [s for s in services.sources if not name or s.name == name]
    if not chosen:
        await _reply(update, t(lang(update), "no_source", name=esc(name[:100])))
        return
    totals: dict[str, int] = {}
    for source in chosen:
        tally = await services.ingest(source)
        for outcome, n in tally.counts.items():
            totals[str(outcome)] = totals.get(str(outcome), 0) + n
    keys = ("new", "updated", "duplicate", "unchanged", "not_article", "failed")
    await _reply(update, t(lang(update), "ingest_done", **{k: totals.get(k, 0) for k in keys}))


async def reports(update: Update, context: Context) -> None:
    """List the most recent user reports, with who filed them and whether (and how) they were answered."""
    if await _refuse(update, context):
        return
    language = lang(update)
    async with context.bot_data.ready.sessions() as session:
        rows = await recent_reports(session=session, limit=20)
        opened, answered = await count_reports(session=session)
    if not rows:
        await _reply(update, t(language, "no_reports"))
        return
    zone = context.bot_data.zone
    shown = t(language, "reports_title", open=opened, answered=answered)
    for r in rows:
        state = (
            t(language, "report_answered", at=f"{r.answered_at.astimezone(zone):%m-%d %H:%M}")
            if r.answered_at is not None
            else t(language, "report_open")
        )
        entry = (
            f"<b>#{r.id}</b> {r.created_at.astimezone(zone):%m-%d %H:%M} {esc_user(r.name or '?')}"
            + (f" @{esc_user(r.username)}" if r.username else "")
            + f" <code>{r.user_id}</code> · <i>{state}</i>\n{esc_user(r.text[:300])}"
            + (f"\n↳ {esc_user(r.answer[:300])}" if r.answer else "")
        )
        # Whole reports only: a cut inside a tag or an entity is a message Telegram refuses.
        if len(shown) + 2 + len(entry) > LIMIT:
            break
        shown = f"{shown}\n\n{entry}"
    await _reply(update, shown)


async def channel(update: Update, context: Context) -> None:
    """Bind a channel (the bot being its admin) to receive each new article as it is ingested."""
    if await _refuse(update, context):
        return
    language = lang(update)
    name = argument(context)
    if not name or len(name) > 64 or " " in name:
        await _reply(update, t(language, "channel_hint"))
        return
    try:
        chat = await context.bot.get_chat(name)
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError:
        await _reply(update, t(language, "channel_not_admin", channel=esc(name)))
        return
    if member.status not in {"administrator", "creator"}:
        await _reply(update, t(language, "channel_not_admin", channel=esc(name)))
        return
    assert update.effective_user is not None
    async with context.bot_data.ready.sessions.begin() as session:
        await bind_channel(
            session=session, chat_id=chat.id, title=chat.title or name, bound_by=update.effective_user.id
        )
    await _reply(update, t(language, "channel_bound", channel=esc(name)))


HANDLERS: list[BaseHandler[Update, Context, None]] = [
    CommandHandler("announce", announce),
    CommandHandler("stats", stats),
    CommandHandler("ingest", ingest_now),
    CommandHandler("reports", reports),
    CommandHandler("channel", channel),
    CallbackQueryHandler(on_button, pattern=pattern(Action.ANNOUNCE, Action.CANCEL_ANNOUNCE)),
]
