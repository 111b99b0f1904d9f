"""Daily digests and channel posts: build the messages and put them in the outbox.

A subscriber's digest is enqueued under the key of their local date, in the same transaction
that moves their `last_digest_at`: two schedulers or a restart at 08:00 enqueue it once, and the
outbox's unique (kind, key, chat) turns a second attempt into nothing. A digest holds at most
`digest_size` articles, the first stored; its `shown_until` keeps the rest for the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery._outbox import OPEN_IN_BOT
from bot.render import DigestItem, channel_post, digest_messages, esc
from bot.script import markup_to_script, to_script
from bot.texts import t
from storage import (
    DigestPage,
    OutboxKind,
    Subscriber,
    active_channels,
    digest_key,
    digest_page,
    enqueue,
    get_article,
    newest_article_id,
    subscribers_due_for_digest,
    update_subscriber,
)

__all__ = ["digest_items", "enqueue_channel_posts", "enqueue_due_digests"]

logger = logging.getLogger(__name__)

_BATCH = 100  # subscribers' digests enqueued in one transaction


async def enqueue_due_digests(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, send_empty: bool = False
) -> int:
    """Enqueue the digest of every subscriber whose time has come today; return how many."""
    enqueued = 0
    after = 0
    while True:
        async with sessions() as session:
            due = await subscribers_due_for_digest(session=session, now=now, after_id=after)
        if not due:
            break
        after = due[-1].id
        # Many subscribers share a digest time: one write transaction per subscriber made 50,000
        # of them at 08:00 a quarter of an hour's work on SQLite. A batch commits together.
        for start in range(0, len(due), _BATCH):
            enqueued += await _enqueue_batch(sessions, due[start : start + _BATCH], now=now, send_empty=send_empty)
    if enqueued:
        logger.info("enqueued %d digests", enqueued)
    return enqueued


async def _enqueue_batch(
    sessions: async_sessionmaker[AsyncSession], batch: list[Subscriber], *, now: datetime, send_empty: bool
) -> int:
    """Enqueue a batch of digests and move their subscribers' last_digest_at, in one transaction.

    Finding and rendering the articles is most of the work, so it happens on a read, which holds
    no lock: held in the write transaction, SQLite's one write lock was taken for seconds a batch,
    and the outbox beside it waited past its busy timeout. The write only enqueues. An article
    stored between the two (a newer id) means reading again under the lock, so none is missed.
    """

    async def drafts_on(session: AsyncSession) -> list[tuple[list[dict[str, Any]], datetime | None] | None]:
        return [await _draft(session, subscriber, now=now, send_empty=send_empty) for subscriber in batch]

    async with sessions() as session:
        seen = await newest_article_id(session=session)
        drafts = await drafts_on(session)
    enqueued = 0
    async with sessions.begin() as session:
        if await newest_article_id(session=session) != seen:
            drafts = await drafts_on(session)
        for subscriber, draft in zip(batch, drafts, strict=True):
            shown_until = subscriber.shown_until  # nothing sent: what waited still waits
            if draft is not None:
                parts, shown_until = draft
                enqueued += await enqueue(
                    session=session,
                    kind=OutboxKind.DIGEST,
                    key=digest_key(subscriber=subscriber, now=now),
                    chat_ids=[subscriber.chat_id],
                    payload={"parts": parts},
                )
            await update_subscriber(
                session=session, chat_id=subscriber.chat_id, last_digest_at=now, shown_until=shown_until
            )
    return enqueued


async def _draft(
    session: AsyncSession, subscriber: Subscriber, *, now: datetime, send_empty: bool
) -> tuple[list[dict[str, Any]], datetime | None] | None:
    """Return the parts of a subscriber's digest and how far it read (None: all of it), or None
    when there is nothing to send."""
    page = await digest_page(session=session, subscriber=subscriber, until=now)
    if not (page.entries or send_empty or subscriber.send_empty):
        return None
    date = now.astimezone(ZoneInfo(subscriber.timezone)).strftime("%Y-%m-%d")
    parts = digest_messages(
        digest_items(page),
        subscriber.language,
        t(subscriber.language, "digest_title", date=esc(date)),
        more=page.remaining,
    )
    # Rendered, then converted: the stored articles and the bot's texts alike are Simplified.
    script = subscriber.script
    payload = [
        {"text": to_script(text, script)}
        | ({"reply_markup": markup_to_script(markup.to_dict(), script)} if markup else {})
        for text, markup in parts
    ]
    return payload, page.through if page.remaining else None


def digest_items(page: DigestPage) -> list[DigestItem]:
    """Return a page of a digest as what `digest_messages` renders."""
    return [
        DigestItem(e.article, e.article.summary.to_summary() if e.article.summary else None, e.source)
        for e in page.entries
    ]


async def enqueue_channel_posts(session: AsyncSession, *, article_id: int, zone: ZoneInfo) -> int:
    """Enqueue a new article for every bound channel, in the caller's transaction."""
    channels = await active_channels(session=session)
    if not channels:
        return 0
    article = await get_article(session=session, article_id=article_id)
    if article is None or article.summary is None:
        return 0
    # The sender, which knows the bot's username, adds a button opening the article in the bot.
    part = {"text": channel_post(article, article.summary.to_summary(), zone), OPEN_IN_BOT: article_id}
    payload = {"parts": [part]}
    return await enqueue(
        session=session,
        kind=OutboxKind.CHANNEL_POST,
        key=str(article_id),
        chat_ids=[c.chat_id for c in channels],
        payload=payload,
    )
