"""Delivery queries: subscribers and their filters, digest content, the outbox, announcements,
reports and channels. Each takes a keyword-only `session` and never commits: the caller owns
`session.begin()`, so a digest's outbox row and the subscriber's new last_digest_at share one
transaction.

A sender claims, sends and records in separate short transactions, holding no lock while it
talks to Telegram: `claim_due` leases a batch, `mark_sent_many` records the sends of many rows in
one statement, and `mark_progress`, `mark_retry`, `mark_failed` and `mark_blocked_row` record the
rest (see `bot.delivery.OutboxSender`).

A row whose sender dies stays 'sending' until its lease runs out, then the next claim takes it
again: nothing is lost, and a message whose result was not recorded may be sent twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any, TypedDict, Unpack, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from storage._fulltext import query_words
from storage._models import (
    DEFAULT_DIGEST_SIZE,
    DEFAULT_DIGEST_TIME,
    DEFAULT_TIMEZONE,
    Announcement,
    AnnouncementStatus,
    ArticleRecord,
    Channel,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    Report,
    SendBudget,
    Source,
    Subscriber,
    SubscriberFilter,
    SubscriberKind,
    SubscriberSource,
)
from storage.errors import NotSubscribed, StorageError

__all__ = [
    "DEFAULT_CLAIM_LEASE",
    "DeliveryStats",
    "DigestEntry",
    "DigestPage",
    "SubscriberSettings",
    "active_channels",
    "active_subscriber_ids",
    "active_subscribers",
    "add_filter",
    "answer_report",
    "articles_for_digest",
    "bind_channel",
    "claim_due",
    "clear_filters",
    "count_reports",
    "count_subscribers",
    "create_announcement",
    "create_report",
    "delivery_stats",
    "digest_key",
    "digest_page",
    "enqueue",
    "followed_sources",
    "get_announcement",
    "get_report",
    "get_subscriber",
    "list_announcements",
    "list_filters",
    "mark_blocked",
    "mark_blocked_row",
    "mark_failed",
    "mark_progress",
    "mark_report_forwarded",
    "mark_retry",
    "mark_sent",
    "mark_sent_many",
    "migrate_chat",
    "outbox_backlog",
    "outbox_tally",
    "pending_count",
    "recent_reports",
    "remove_filter",
    "report_of_notice",
    "reports_to_forward",
    "set_announcement_status",
    "set_followed_sources",
    "subscribe",
    "subscriber_scripts",
    "subscribers_due_for_digest",
    "toggle_source",
    "unbind_channel",
    "unsubscribe",
    "update_announcement",
    "update_subscriber",
]

# A 'sending' row whose claim is older than this is taken to belong to a dead sender: long
# enough for a sender to work through a claimed batch at Telegram's rate limits.
DEFAULT_CLAIM_LEASE = timedelta(seconds=60)

_ENQUEUE_CHUNK = 10_000  # chats per INSERT: memory stays flat for any number of chats
_KEYWORD_LENGTH = 64
_SCRIPTS = ("hans", "hant")  # Simplified, Traditional (bot.texts names them)
_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class SubscriberSettings(TypedDict, total=False):
    """The settings `update_subscriber` changes."""

    user_id: int | None
    kind: SubscriberKind | str
    language: str
    script: str  # hans | hant
    digest_time: time | str  # local time, or "HH:MM"
    timezone: str  # IANA name
    digest_size: int
    send_empty: bool
    last_digest_at: datetime
    shown_until: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """Outbox rows by status, all time and recently, and subscriber and channel counts."""

    outbox_total: dict[OutboxStatus, int]
    outbox_recent: dict[OutboxStatus, int]  # rows whose status changed since `since`
    subscribers_active: int
    subscribers_blocked: int  # inactive after a Forbidden
    subscribers_left: int  # inactive after /stop
    subscribers_by_kind: dict[SubscriberKind, int]  # active ones
    channels_active: int


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"naive {name} {value.isoformat()}: storage needs an aware datetime")
    return value.astimezone(UTC)


def _insert(session: AsyncSession, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Return an INSERT for `model` that supports ON CONFLICT on this session's backend."""
    if _is_postgres(session):
        return postgresql.insert(model)
    return sqlite.insert(model)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Subscribers ------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _digest_time(value: time | str) -> time:
    if isinstance(value, str):
        if (match := _HH_MM.fullmatch(value.strip())) is None:
            raise ValueError(f"digest time {value!r} is not HH:MM")
        return time(int(match[1]), int(match[2]))
    if value.tzinfo is not None:
        raise ValueError("a digest time is local to the subscriber's time zone: give a naive time")
    return value


def _scheduled(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of local time `at` on local `day`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _next_digest(after: datetime, at: time, timezone: str) -> datetime:
    """Return the first local `at` strictly after `after`, in UTC."""
    zone = _zone(timezone)
    day = after.astimezone(zone).date()
    due = _scheduled(day, at, zone)
    return due if due > after else _scheduled(day + timedelta(days=1), at, zone)


def _todays_digest(subscriber: Subscriber, now: datetime) -> datetime:
    zone = _zone(subscriber.timezone)
    return _scheduled(now.astimezone(zone).date(), subscriber.digest_time, zone)


def _is_due(subscriber: Subscriber, now: datetime) -> bool:
    """Return whether today's (local) digest time has passed and no digest has been made since."""
    today = _todays_digest(subscriber, now)
    return today <= now and subscriber.last_digest_at < today


def digest_key(*, subscriber: Subscriber, now: datetime) -> str:
    """Return the outbox key of the subscriber's digest at `now`: its local date, e.g. "2026-11-28"."""
    return now.astimezone(_zone(subscriber.timezone)).date().isoformat()


async def _subscriber(session: AsyncSession, chat_id: int, *, lock: bool = False) -> Subscriber | None:
    stmt = select(Subscriber).where(Subscriber.chat_id == chat_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def subscribe(
    *,
    session: AsyncSession,
    chat_id: int,
    user_id: int | None,
    kind: SubscriberKind | str,
    language: str,
    script: str = "hans",
    digest_time: time | str | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> Subscriber:
    """Subscribe a chat, or re-activate it with the settings it had; return its row.

    A new subscriber gets `language`, `script`, `digest_time` (default 08:00) and `timezone` (default
    Asia/Shanghai); an existing one keeps its language and script, and its digest time and time zone unless
    given. Its first digest after (re)subscribing holds what was stored from then on.

    Raises:
        ValueError: an unknown kind or time zone, or a digest time that is not HH:MM.
    """
    now = _aware(now or _now(), "now")
    kind = SubscriberKind(kind)
    at = None if digest_time is None else _digest_time(digest_time)
    if timezone is not None:
        _zone(timezone)
    row = await _subscriber(session, chat_id, lock=True)
    if row is None:
        first_time = DEFAULT_DIGEST_TIME if at is None else at
        zone = timezone or DEFAULT_TIMEZONE
        values = {
            "chat_id": chat_id,
            "user_id": user_id,
            "kind": kind,
            "language": _language(language),
            "script": _script(script),
            "active": True,
            "digest_time": first_time,
            "timezone": zone,
            "digest_size": DEFAULT_DIGEST_SIZE,
            "send_empty": False,
            "last_digest_at": now,
            "next_digest_at": _next_digest(now, first_time, zone),
            "created_at": now,
            "updated_at": now,
        }
        insert = _insert(session, Subscriber).values(values)
        insert = insert.on_conflict_do_nothing(index_elements=[Subscriber.chat_id])
        inserted = (await session.execute(insert.returning(Subscriber.id))).first() is not None
        row = await _subscriber(session, chat_id, lock=True)
        if row is None:  # pragma: no cover - the row was just inserted, or is another writer's
            raise StorageError(f"subscriber {chat_id} vanished while subscribing")
        if inserted:
            return row
    # Subscribed before (or by another writer just now): re-activate, keeping its settings.
    if user_id is not None:
        row.user_id = user_id
    row.kind = kind
    if at is not None:
        row.digest_time = at
    if timezone is not None:
        row.timezone = timezone
    if not row.active:
        row.active = True
        row.blocked_at = None
        row.last_digest_at = now  # no digest of what was stored while it was away
        row.shown_until = None
    row.next_digest_at = _next_digest(row.last_digest_at, row.digest_time, row.timezone)
    row.updated_at = now
    await session.flush()
    return row


def _script(script: str) -> str:
    if script not in _SCRIPTS:
        raise ValueError(f"script {script!r} must be one of {', '.join(_SCRIPTS)}")
    return script


def _language(language: str) -> str:
    language = language.strip()
    if not 0 < len(language) <= 16:
        raise ValueError(f"language {language!r} must be 1-16 characters")
    return language


async def unsubscribe(*, session: AsyncSession, chat_id: int, now: datetime | None = None) -> bool:
    """Stop a chat's digests, keeping its settings for a later /start; return whether it was active."""
    stmt = (
        update(Subscriber)
        .where(Subscriber.chat_id == chat_id, Subscriber.active.is_(True))
        .values(active=False, updated_at=_aware(now or _now(), "now"))
        .returning(Subscriber.id)
    )
    return (await session.execute(stmt)).first() is not None


async def mark_blocked(*, session: AsyncSession, chat_id: int, now: datetime | None = None) -> bool:
    """Record that a chat refused the bot (Forbidden: blocked, kicked, deactivated).

    Its subscriber and channel go inactive and its pending outbox rows become 'blocked': nothing
    more is sent to it. Returns whether a subscriber or channel was active.
    """
    now = _aware(now or _now(), "now")
    subscriber = (
        update(Subscriber)
        .where(Subscriber.chat_id == chat_id, Subscriber.active.is_(True))
        .values(active=False, blocked_at=now, updated_at=now)
        .returning(Subscriber.id)
    )
    channel = (
        update(Channel)
        .where(Channel.chat_id == chat_id, Channel.active.is_(True))
        .values(active=False, updated_at=now)
        .returning(Channel.id)
    )
    was_subscriber = (await session.execute(subscriber)).first() is not None
    was_channel = (await session.execute(channel)).first() is not None
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == chat_id, OutboxRow.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.BLOCKED, last_error="the chat refused the bot", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return was_subscriber or was_channel


async def subscriber_scripts(*, session: AsyncSession) -> dict[int, str]:
    """Return the script every chat that ever subscribed reads, by chat id (one read of them all)."""
    return dict((await session.execute(select(Subscriber.chat_id, Subscriber.script))).tuples().all())


async def get_subscriber(*, session: AsyncSession, chat_id: int) -> Subscriber | None:
    """Return the chat's subscriber, active or not, or None if it never subscribed."""
    return await _subscriber(session, chat_id)


async def update_subscriber(
    *, session: AsyncSession, chat_id: int, now: datetime | None = None, **fields: Unpack[SubscriberSettings]
) -> Subscriber | None:
    """Change a subscriber's settings; return its row, or None if the chat never subscribed.

    Setting last_digest_at (when the digest just enqueued was made) moves its next digest on;
    shown_until says how far that digest read, when it left articles for the next one.

    Raises:
        ValueError: a setting out of range: an unknown time zone or kind, a digest time that is
            not HH:MM, a digest size below 1, a naive last_digest_at.
        TypeError: a setting that is not one of SubscriberSettings.
    """
    unknown = set(fields) - set(SubscriberSettings.__annotations__)
    if unknown:
        raise TypeError(f"not subscriber settings: {', '.join(sorted(unknown))}")
    row = await _subscriber(session, chat_id, lock=True)
    if row is None:
        return None
    if "user_id" in fields:
        row.user_id = fields["user_id"]
    if "kind" in fields:
        row.kind = SubscriberKind(fields["kind"])
    if "language" in fields:
        row.language = _language(fields["language"])
    if "script" in fields:
        row.script = _script(fields["script"])
    if "digest_time" in fields:
        row.digest_time = _digest_time(fields["digest_time"])
    if "timezone" in fields:
        _zone(fields["timezone"])
        row.timezone = fields["timezone"]
    if "digest_size" in fields:
        if fields["digest_size"] < 1:
            raise ValueError(f"digest size must be at least 1, not {fields['digest_size']}")
        row.digest_size = fields["digest_size"]
    if "send_empty" in fields:
        row.send_empty = bool(fields["send_empty"])
    if "last_digest_at" in fields:
        row.last_digest_at = _aware(fields["last_digest_at"], "last_digest_at")
    if "shown_until" in fields:
        shown = fields["shown_until"]
        row.shown_until = None if shown is None else _aware(shown, "shown_until")
    row.next_digest_at = _next_digest(row.last_digest_at, row.digest_time, row.timezone)
    row.updated_at = _aware(now or _now(), "now")
    await session.flush()
    return row


async def active_subscribers(*, session: AsyncSession, limit: int = 1000, after_id: int = 0) -> list[Subscriber]:
    """Return a page of active subscribers by id; pass the last one's id as `after_id` for the next."""
    stmt = (
        select(Subscriber)
        .where(Subscriber.active.is_(True), Subscriber.id > after_id)
        .order_by(Subscriber.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def active_subscriber_ids(
    *, session: AsyncSession, limit: int = 1000, after_chat_id: int | None = None, script: str | None = None
) -> list[int]:
    """Return a page of active subscribers' chat ids (of those reading `script`, if given), in order;
    pass the last one for the next page.

    Group and channel ids are negative: start with None, not 0.
    """
    stmt = select(Subscriber.chat_id).where(Subscriber.active.is_(True)).order_by(Subscriber.chat_id).limit(limit)
    if script is not None:
        stmt = stmt.where(Subscriber.script == script)
    if after_chat_id is not None:
        stmt = stmt.where(Subscriber.chat_id > after_chat_id)
    return list((await session.execute(stmt)).scalars())


async def subscribers_due_for_digest(
    *, session: AsyncSession, now: datetime, limit: int = 1000, after_id: int = 0
) -> list[Subscriber]:
    """Return a page of active subscribers, by id, due a digest at `now`.

    Due: today's digest time, in the subscriber's time zone, has passed, and its last digest
    (or (re)subscription) came before it. A missed day is not made up: the next digest, at the
    next digest time, holds everything since the last one. Pass the last one's id as `after_id`
    for the next page.
    """
    now = _aware(now, "now")
    found: list[Subscriber] = []
    # next_digest_at <= now is necessary (and by index); a subscriber whose scheduled digest
    # fell on an earlier day but whose time today has not come yet is dropped here.
    while len(found) < limit:
        stmt = (
            select(Subscriber)
            .where(Subscriber.active.is_(True), Subscriber.next_digest_at <= now, Subscriber.id > after_id)
            .order_by(Subscriber.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        page = list((await session.execute(stmt)).scalars())
        found += [s for s in page if _is_due(s, now)]
        if len(page) < limit:
            break
        after_id = page[-1].id
    return found[:limit]


async def count_subscribers(*, session: AsyncSession, active: bool | None = True) -> int:
    """Return how many subscribers there are: active ones, inactive ones, or (None) all."""
    stmt = select(func.count()).select_from(Subscriber)
    if active is not None:
        stmt = stmt.where(Subscriber.active.is_(active))
    return (await session.execute(stmt)).scalar_one()


# Followed sources and filters ------------------------------------------------------------------


async def _lock_subscriber(session: AsyncSession, subscriber_id: int) -> None:
    """Lock the subscriber's row, so that changes to its lists queue up; raise if there is none."""
    stmt = select(Subscriber.id).where(Subscriber.id == subscriber_id).with_for_update()
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        raise NotSubscribed(f"no subscriber {subscriber_id}")


async def _followed(session: AsyncSession, subscriber_id: int) -> list[int]:
    stmt = (
        select(SubscriberSource.source_id)
        .where(SubscriberSource.subscriber_id == subscriber_id)
        .order_by(SubscriberSource.source_id)
    )
    return list((await session.execute(stmt)).scalars())


async def _offered(session: AsyncSession, known: Iterable[int] | None) -> set[int]:
    """Return the sources a subscriber chooses among: `known` (those configured), or every one stored."""
    stored = set((await session.execute(select(Source.id))).scalars())
    if known is None:
        return stored
    offered = set(known)
    if unknown := offered - stored:
        raise ValueError(f"no such sources: {sorted(unknown)}")
    return offered


async def _replace_followed(session: AsyncSession, subscriber_id: int, source_ids: set[int]) -> None:
    await session.execute(delete(SubscriberSource).where(SubscriberSource.subscriber_id == subscriber_id))
    rows = [{"subscriber_id": subscriber_id, "source_id": s} for s in sorted(source_ids)]
    if rows:
        await session.execute(_insert(session, SubscriberSource).values(rows))


async def followed_sources(*, session: AsyncSession, subscriber_id: int) -> list[int]:
    """Return the ids of the sources a subscriber follows, in order; empty when it follows them all."""
    return await _followed(session, subscriber_id)


async def set_followed_sources(
    *, session: AsyncSession, subscriber_id: int, source_ids: Iterable[int], known: Iterable[int] | None = None
) -> None:
    """Make a subscriber follow exactly these sources; none, or all `known`, means all (new ones included).

    Args:
        known: the sources offered (those configured); default every source stored.

    Raises:
        NotSubscribed: there is no such subscriber.
        ValueError: a source id that does not exist.
    """
    await _lock_subscriber(session, subscriber_id)
    wanted = set(source_ids)
    if unknown := wanted - await _offered(session, None):
        raise ValueError(f"no such sources: {sorted(unknown)}")
    offered = await _offered(session, known)
    await _replace_followed(session, subscriber_id, set() if wanted >= offered else wanted)


async def toggle_source(
    *, session: AsyncSession, subscriber_id: int, source_id: int, known: Iterable[int] | None = None
) -> bool:
    """Follow a source the subscriber does not follow, or stop following one it does; return whether it now does.

    Stopping one while following all follows every other `known` one; following the last one
    missing goes back to following all (new sources included).

    Args:
        known: the sources offered (those configured); default every source stored.

    Raises:
        NotSubscribed: there is no such subscriber.
        ValueError: the source does not exist, or it is the only one followed (a subscriber follows
            at least one; /stop ends the digests).
    """
    await _lock_subscriber(session, subscriber_id)
    offered = await _offered(session, known)
    if source_id not in await _offered(session, None):
        raise ValueError(f"no source {source_id}")
    followed = set(await _followed(session, subscriber_id)) or set(offered)
    if source_id in followed:
        if followed == {source_id}:
            raise ValueError("the only source followed cannot be dropped")
        followed.discard(source_id)
    else:
        followed.add(source_id)
    await _replace_followed(session, subscriber_id, set() if followed >= offered else followed)
    return source_id in followed


def _keyword(keyword: str) -> str:
    keyword = keyword.strip()
    if not 0 < len(keyword) <= _KEYWORD_LENGTH:
        raise ValueError(f"a keyword must be 1-{_KEYWORD_LENGTH} characters, not {len(keyword)}")
    return keyword


async def add_filter(*, session: AsyncSession, subscriber_id: int, keyword: str, include: bool = True) -> bool:
    """Keep only articles mentioning `keyword` (include) or drop them; return whether anything changed.

    A keyword already filtered the other way is switched. An article is kept when it mentions any
    include keyword (all are kept when there are none) and none of the exclude keywords: its
    title contains the keyword, or its text has every word of it (segmented as /search does).

    Raises:
        NotSubscribed: there is no such subscriber.
        ValueError: the keyword is empty or longer than 64 characters.
    """
    keyword = _keyword(keyword)
    await _lock_subscriber(session, subscriber_id)
    found = await session.get(SubscriberFilter, (subscriber_id, keyword), populate_existing=True)
    if found is not None:
        if found.include == include:
            return False
        found.include = include
    else:
        session.add(SubscriberFilter(subscriber_id=subscriber_id, keyword=keyword, include=include))
    await session.flush()
    return True


async def remove_filter(*, session: AsyncSession, subscriber_id: int, keyword: str) -> bool:
    """Drop a keyword filter; return whether the subscriber had it."""
    stmt = (
        delete(SubscriberFilter)
        .where(SubscriberFilter.subscriber_id == subscriber_id, SubscriberFilter.keyword == keyword.strip())
        .returning(SubscriberFilter.keyword)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(stmt)).first() is not None


async def clear_filters(*, session: AsyncSession, subscriber_id: int) -> int:
    """Drop every keyword filter of a subscriber; return how many there were."""
    stmt = (
        delete(SubscriberFilter)
        .where(SubscriberFilter.subscriber_id == subscriber_id)
        .returning(SubscriberFilter.keyword)
        .execution_options(synchronize_session="fetch")
    )
    return len((await session.execute(stmt)).all())


async def list_filters(*, session: AsyncSession, subscriber_id: int) -> list[SubscriberFilter]:
    """Return a subscriber's keyword filters, include ones first, by keyword."""
    stmt = (
        select(SubscriberFilter)
        .where(SubscriberFilter.subscriber_id == subscriber_id)
        .order_by(SubscriberFilter.include.desc(), SubscriberFilter.keyword)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


# Digest content ----------------------------------------------------------------------------------


def _mentions(session: AsyncSession, keyword: str, tag: int) -> ColumnElement[bool]:
    """Return whether an article's title contains `keyword`, or its text has every word of it.

    The words are segmented as /search segments them; never NULL, so NOT of it is safe.
    """
    in_title = func.lower(ArticleRecord.title).contains(keyword.lower(), autoescape=True)
    words = query_words(keyword)
    if not words:
        return in_title
    if _is_postgres(session):
        simple = literal_column("'simple'::regconfig", postgresql.REGCONFIG)
        vector = func.to_tsvector(simple, func.coalesce(ArticleRecord.search_text, ""))
        in_text: ColumnElement[bool] = vector.bool_op("@@")(func.plainto_tsquery(simple, " ".join(words)))
    else:
        query = " ".join('"{}"'.format(w.replace('"', '""')) for w in words)
        name = f"digest_words_{tag}"
        hits = text(f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH :{name}").bindparams(**{name: query})
        in_text = ArticleRecord.id.in_(hits.columns(column("rowid", Integer)))
    return or_(in_title, in_text)


async def _digest_where(
    session: AsyncSession, subscriber: Subscriber, since: datetime, until: datetime
) -> list[ColumnElement[bool]]:
    """Return the conditions of an original stored in (since, until] that passes the subscriber's
    sources and filters. An original counts as coming from its own source and from every source
    that reposted it."""
    since, until = _aware(since, "since"), _aware(until, "until")
    followed = await _followed(session, subscriber.id)
    filters = (
        await session.execute(
            select(SubscriberFilter.keyword, SubscriberFilter.include)
            .where(SubscriberFilter.subscriber_id == subscriber.id)
            .order_by(SubscriberFilter.keyword)
        )
    ).all()
    where: list[ColumnElement[bool]] = [
        ArticleRecord.duplicate_of_id.is_(None),
        ArticleRecord.fetched_at > since,
        ArticleRecord.fetched_at <= until,
    ]
    if followed:
        repost = aliased(ArticleRecord)
        reposted = exists().where(repost.duplicate_of_id == ArticleRecord.id, repost.source_id.in_(followed))
        where.append(or_(ArticleRecord.source_id.in_(followed), reposted))
    includes = [_mentions(session, k, i) for i, (k, include) in enumerate(filters) if include]
    if includes:
        where.append(or_(*includes))
    where += [not_(_mentions(session, k, i)) for i, (k, include) in enumerate(filters) if not include]
    return where


async def articles_for_digest(
    *,
    session: AsyncSession,
    subscriber: Subscriber,
    since: datetime,
    until: datetime,
    limit: int | None = None,
) -> list[ArticleRecord]:
    """Return the originals stored in (since, until] that pass the subscriber's sources and filters.

    Newest first, at most `limit` (default: its digest_size), with summaries loaded. An original
    counts as coming from its own source and from every source that reposted it.
    """
    stmt = (
        select(ArticleRecord)
        .where(*await _digest_where(session, subscriber, since, until))
        .order_by(ArticleRecord.dated_at.desc(), ArticleRecord.id.desc())
        .limit(subscriber.digest_size if limit is None else limit)
        .options(selectinload(ArticleRecord.summary))
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """An article of a digest, with the configured name of the source it was stored from."""

    article: ArticleRecord
    source: str


@dataclass(frozen=True, slots=True)
class DigestPage:
    """A page of what waits for a subscriber's next digest."""

    entries: list[DigestEntry]  # newest first
    through: datetime  # what was stored up to this is on this page or an earlier one
    remaining: int  # articles waiting after this page


async def digest_page(
    *, session: AsyncSession, subscriber: Subscriber, until: datetime, offset: int = 0, limit: int | None = None
) -> DigestPage:
    """Return what waits for the subscriber's next digest at `until`, from `offset` on.

    Waiting: stored after the last digest's reach (its shown_until, else its last_digest_at) up to
    `until`, passing its sources and filters. A page is the first-stored `limit` (default: its
    digest_size), so a digest that shows it moves the mark past exactly those (`through`) and the
    rest waits. Articles stored at the same instant as the page's last one come along, though the
    page grows past `limit`: a mark between them would skip them.
    """
    where = await _digest_where(session, subscriber, subscriber.shown_until or subscriber.last_digest_at, until)
    stmt = (
        select(ArticleRecord, Source.name)
        .join(Source, Source.id == ArticleRecord.source_id)
        .where(*where)
        .options(selectinload(ArticleRecord.summary))
        .execution_options(populate_existing=True)
    )
    size = subscriber.digest_size if limit is None else limit
    rows = list(
        await session.execute(stmt.order_by(ArticleRecord.fetched_at, ArticleRecord.id).offset(offset).limit(size))
    )
    total = (await session.execute(select(func.count()).select_from(ArticleRecord).where(*where))).scalar_one()
    if rows and offset + len(rows) < total:
        last = rows[-1][0]
        ties = stmt.where(ArticleRecord.fetched_at == last.fetched_at, ArticleRecord.id > last.id)
        rows += (await session.execute(ties.order_by(ArticleRecord.id))).all()
    remaining = max(total - offset - len(rows), 0)
    through = rows[-1][0].fetched_at if rows and remaining else _aware(until, "until")
    entries = [DigestEntry(article, name) for article, name in rows]
    entries.sort(key=lambda e: (e.article.dated_at, e.article.id), reverse=True)
    return DigestPage(entries, through, remaining)


# Outbox --------------------------------------------------------------------------------------------


async def enqueue(
    *,
    session: AsyncSession,
    kind: OutboxKind | str,
    key: str,
    chat_ids: Iterable[int],
    payload: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Add one pending message per chat; return how many were added.

    A chat that already has this (kind, key) gets nothing new: enqueuing a broadcast twice sends
    it once. 50,000 chats take well under a second.

    Args:
        payload: the rendered message parts, sent in order, as {"parts": [{text, parse_mode,
            reply_markup …}, …]} (stored so), a list of parts, or one part.

    Raises:
        ValueError: no parts or no key, an unknown kind, a naive datetime.
    """
    kind = OutboxKind(kind)
    if isinstance(payload, Mapping):
        message = dict(payload) if "parts" in payload else {"parts": [dict(payload)]}
    else:
        message = {"parts": [dict(p) for p in payload]}
    message["parts"] = [dict(p) for p in message["parts"]]
    if not message["parts"] or not key:
        raise ValueError("a message needs a key and at least one part")
    now = _aware(now or _now(), "now")
    due = _aware(not_before, "not_before") if not_before is not None else now
    ids = iter(dict.fromkeys(chat_ids))  # a chat twice in one call is one message
    table = OutboxRow.__table__.c
    added = 0
    while chunk := list(islice(ids, _ENQUEUE_CHUNK)):
        # INSERT … SELECT over the chat ids as one array parameter: one short statement per chunk,
        # however many chats (a multi-row VALUES of 50,000 rows takes seconds to build and parse).
        chat_id: ColumnElement[int]
        if _is_postgres(session):
            chat_id = func.unnest(literal(chunk, postgresql.ARRAY(BigInteger))).column_valued("chat_id")
        else:
            chat_id = func.json_each(literal(json.dumps(chunk))).table_valued("value").c.value
        rows = select(
            literal(kind, table.kind.type),
            literal(key, table.key.type),
            chat_id,
            literal(message, table.payload.type),
            literal(OutboxStatus.PENDING, table.status.type),
            literal(0, table.attempts.type),
            literal(due, table.next_attempt_at.type),
            literal([], table.telegram_message_ids.type),
            literal(now, table.created_at.type),
            literal(now, table.updated_at.type),
        ).where(true())  # SQLite reads ON CONFLICT after INSERT … SELECT only with a WHERE
        columns = [
            "kind",
            "key",
            "chat_id",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "telegram_message_ids",
            "created_at",
            "updated_at",
        ]
        stmt = _insert(session, OutboxRow).from_select(columns, rows)
        stmt = stmt.on_conflict_do_nothing(index_elements=[OutboxRow.kind, OutboxRow.key, OutboxRow.chat_id])
        added += len((await session.execute(stmt.returning(OutboxRow.id))).all())
    return added


# The send budget ----------------------------------------------------------------------------------


async def reserve_sends(
    *, session: AsyncSession, count: int, interval: float, now: float, name: str = "telegram"
) -> float:
    """Reserve `count` send slots `interval` seconds apart; return when the first starts.

    Times are seconds since the epoch. The slots follow the last ones reserved by any sender, or
    start at `now` if those are over: time left unused is not saved up, so a budget idle for an
    hour allows no burst. The row stays locked until the caller commits, so reservations are
    taken one after the other.
    """
    span = count * interval
    start = case((SendBudget.next_free > now, SendBudget.next_free), else_=literal(now))
    stmt = (
        update(SendBudget).where(SendBudget.name == name).values(next_free=start + span).returning(SendBudget.next_free)
    )
    end = await session.scalar(stmt)
    if end is None:  # the first reservation of this limit
        await session.execute(_insert(session, SendBudget).values(name=name, next_free=now).on_conflict_do_nothing())
        end = await session.scalar(stmt)
    assert end is not None
    return float(end) - span


async def claim_due(
    *,
    session: AsyncSession,
    worker: str,
    limit: int,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_CLAIM_LEASE,
) -> list[OutboxRow]:
    """Claim up to `limit` rows due at `now`, oldest first, for `worker` to send; they become 'sending'.

    Due: pending with next_attempt_at passed, or 'sending' under a claim older than `lease` (its
    sender died; the lost attempt is counted). Commit the claim before sending: the rows then
    belong to this worker until their lease runs out, so `lease` must outlast sending a batch.

    On PostgreSQL rows another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), so
    concurrent senders never get the same row. SQLite has one writer at a time (the engine
    begins every transaction IMMEDIATE): a second claim waits for the first to commit.
    """
    now = _aware(now or _now(), "now")
    due = or_(
        and_(OutboxRow.status == OutboxStatus.PENDING, OutboxRow.next_attempt_at <= now),
        and_(OutboxRow.status == OutboxStatus.SENDING, OutboxRow.claimed_at <= now - lease),
    )
    claimable = select(OutboxRow.id).where(due).order_by(OutboxRow.id).limit(limit).with_for_update(skip_locked=True)
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(claimable.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            claimed_at=now,
            updated_at=now,
            attempts=OutboxRow.attempts + case((OutboxRow.status == OutboxStatus.SENDING, 1), else_=0),
        )
        .returning(OutboxRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted((await session.execute(stmt)).scalars(), key=lambda row: row.id)


async def _finish(session: AsyncSession, row_id: int, values: dict[str, Any]) -> int | None:
    """Update a claimed ('sending') row, counting the attempt unless `values` set attempts.

    Returns its chat id, or None when it is not claimed (another sender has since finished it).
    """
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == OutboxStatus.SENDING)
        .values({"attempts": OutboxRow.attempts + 1, **values})
        .returning(OutboxRow.chat_id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_sent(
    *, session: AsyncSession, row_id: int, message_ids: Sequence[int], now: datetime | None = None
) -> bool:
    """Record that a row was sent, with the Telegram ids of its messages; return whether it was unsent.

    Recorded whatever its status, even after its lease ran out: it was sent.
    """
    return await mark_sent_many(session=session, sent=[(row_id, message_ids)], now=now) == 1


async def mark_sent_many(
    *, session: AsyncSession, sent: Sequence[tuple[int, Sequence[int]]], now: datetime | None = None
) -> int:
    """Record many sent rows at once, as (row id, Telegram message ids); return how many were unsent.

    One statement with many parameter sets: a sender at full speed would otherwise spend a
    transaction on every message. A row already recorded as sent is left as it is.
    """
    if not sent:
        return 0
    now = _aware(now or _now(), "now")
    table = OutboxRow.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.status != OutboxStatus.SENT)
        .values(
            status=OutboxStatus.SENT,
            telegram_message_ids=bindparam("message_ids"),
            sent_at=now,
            updated_at=now,
            attempts=table.c.attempts + 1,
        )
    )
    result = await session.execute(stmt, [{"row_id": row_id, "message_ids": list(ids)} for row_id, ids in sent])
    return cast(CursorResult[Any], result).rowcount


async def mark_progress(*, session: AsyncSession, row_id: int, message_ids: Sequence[int]) -> bool:
    """Record the parts of a claimed row sent so far; return whether it was claimed ('sending').

    A sender that dies or is told to wait after some parts of a digest resumes after them.
    """
    stmt = (
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == OutboxStatus.SENDING)
        .values(telegram_message_ids=list(message_ids))
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def mark_retry(
    *,
    session: AsyncSession,
    row_id: int,
    error: str,
    next_attempt_at: datetime,
    message_ids: Sequence[int] | None = None,
    count_attempt: bool = True,
    now: datetime | None = None,
) -> bool:
    """Put a claimed row back to pending until `next_attempt_at`; return whether it was claimed ('sending').

    Only a 'sending' row changes: one another sender has since finished stays as it is.

    Args:
        message_ids: the parts sent so far (see mark_progress), when some were.
        count_attempt: False for a RetryAfter: Telegram's flood control is no fault of the message.
    """
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "next_attempt_at": _aware(next_attempt_at, "next_attempt_at"),
        "last_error": error,
        "claimed_by": None,
        "updated_at": _aware(now or _now(), "now"),
    }
    if message_ids is not None:
        values["telegram_message_ids"] = list(message_ids)
    if not count_attempt:
        values["attempts"] = OutboxRow.attempts
    return await _finish(session, row_id, values) is not None


async def mark_failed(*, session: AsyncSession, row_id: int, error: str, now: datetime | None = None) -> bool:
    """Give up on a claimed row; return whether it was claimed ('sending')."""
    values = {"status": OutboxStatus.FAILED, "last_error": error, "updated_at": _aware(now or _now(), "now")}
    return await _finish(session, row_id, values) is not None


async def mark_blocked_row(*, session: AsyncSession, row_id: int, error: str, now: datetime | None = None) -> bool:
    """Record a Forbidden for a claimed row: it is 'blocked', and so is its chat (see mark_blocked).

    Returns whether the row was claimed ('sending').
    """
    now = _aware(now or _now(), "now")
    values = {"status": OutboxStatus.BLOCKED, "last_error": error, "updated_at": now}
    chat_id = await _finish(session, row_id, values)
    if chat_id is None:
        return False
    await mark_blocked(session=session, chat_id=chat_id, now=now)
    return True


def _by_status(counts: Iterable[tuple[OutboxStatus, int]]) -> dict[OutboxStatus, int]:
    return {status: 0 for status in OutboxStatus} | {status: count for status, count in counts}


async def outbox_tally(*, session: AsyncSession, kind: OutboxKind | str, key: str) -> dict[OutboxStatus, int]:
    """Return how many of one broadcast's rows are in each status, zeros included."""
    stmt = (
        select(OutboxRow.status, func.count())
        .where(OutboxRow.kind == OutboxKind(kind), OutboxRow.key == key)
        .group_by(OutboxRow.status)
    )
    return _by_status((await session.execute(stmt)).tuples())


async def outbox_backlog(*, session: AsyncSession) -> dict[OutboxStatus, int]:
    """Return how many outbox rows are in each status, zeros included."""
    stmt = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
    return _by_status((await session.execute(stmt)).tuples())


async def pending_count(*, session: AsyncSession, kind: OutboxKind | str | None = None, key: str | None = None) -> int:
    """Return how many rows are still to send (pending or sending), of one kind or broadcast if given."""
    stmt = select(func.count()).select_from(OutboxRow).where(OutboxRow.status.in_(_OPEN))
    if kind is not None:
        stmt = stmt.where(OutboxRow.kind == OutboxKind(kind))
    if key is not None:
        stmt = stmt.where(OutboxRow.key == key)
    return (await session.execute(stmt)).scalar_one()


async def migrate_chat(
    *, session: AsyncSession, old_chat_id: int, new_chat_id: int, now: datetime | None = None
) -> int:
    """Move a group that became a supergroup to its new chat id; return how many unsent rows moved.

    Its subscriber (now a supergroup) and its pending and sending outbox rows follow; if the new
    chat already subscribed, the new subscriber is kept and the old one deleted, and an unsent
    row the new chat already has a copy of is dropped.
    """
    now = _aware(now or _now(), "now")
    taken = exists().where(Subscriber.chat_id == new_chat_id)
    if (await session.execute(select(taken))).scalar_one():
        await session.execute(delete(Subscriber).where(Subscriber.chat_id == old_chat_id))
    else:
        await session.execute(
            update(Subscriber)
            .where(Subscriber.chat_id == old_chat_id)
            .values(chat_id=new_chat_id, kind=SubscriberKind.SUPERGROUP, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    copy = aliased(OutboxRow)
    has_copy = exists().where(copy.chat_id == new_chat_id, copy.kind == OutboxRow.kind, copy.key == OutboxRow.key)
    old_unsent = and_(OutboxRow.chat_id == old_chat_id, OutboxRow.status.in_(_OPEN))
    await session.execute(delete(OutboxRow).where(old_unsent, has_copy).execution_options(synchronize_session=False))
    stmt = (
        update(OutboxRow)
        .where(old_unsent)
        .values(chat_id=new_chat_id, updated_at=now)
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    moved = len((await session.execute(stmt)).all())
    session.expire_all()  # rows loaded before may show the old chat id
    return moved


# Announcements, reports, channels ----------------------------------------------------------------


async def create_announcement(
    *,
    session: AsyncSession,
    author_user_id: int,
    text: str,
    preview_chat_id: int | None = None,
    preview_message_id: int | None = None,
    now: datetime | None = None,
) -> Announcement:
    """Save an admin's draft announcement; its id keys its outbox rows (kind announcement)."""
    now = _aware(now or _now(), "now")
    row = Announcement(
        author_user_id=author_user_id,
        text=text,
        status=AnnouncementStatus.DRAFT,
        preview_chat_id=preview_chat_id,
        preview_message_id=preview_message_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_announcement(*, session: AsyncSession, announcement_id: int) -> Announcement | None:
    """Return an announcement, or None."""
    return await session.get(Announcement, announcement_id, populate_existing=True)


async def list_announcements(
    *, session: AsyncSession, limit: int = 20, status: AnnouncementStatus | str | None = None
) -> list[Announcement]:
    """Return announcements newest first, of one status if given."""
    stmt = select(Announcement).order_by(Announcement.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Announcement.status == AnnouncementStatus(status))
    return list((await session.execute(stmt.execution_options(populate_existing=True))).scalars())


async def update_announcement(
    *,
    session: AsyncSession,
    announcement_id: int,
    text: str | None = None,
    preview_chat_id: int | None = None,
    preview_message_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Change the text or the preview/progress message given (None: unchanged); return whether it exists."""
    values: dict[str, Any] = {"updated_at": _aware(now or _now(), "now")}
    if text is not None:
        values["text"] = text
    if preview_chat_id is not None:
        values["preview_chat_id"] = preview_chat_id
    if preview_message_id is not None:
        values["preview_message_id"] = preview_message_id
    stmt = (
        update(Announcement)
        .where(Announcement.id == announcement_id)
        .values(values)
        .returning(Announcement.id)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(stmt)).first() is not None


async def set_announcement_status(
    *,
    session: AsyncSession,
    announcement_id: int,
    status: AnnouncementStatus | str,
    expected: AnnouncementStatus | str | None = None,
    now: datetime | None = None,
) -> bool:
    """Move an announcement to `status`; return whether it moved.

    With `expected`, only from that status: of two admins pressing "send", one starts the
    broadcast (draft → sending succeeds once).
    """
    stmt = update(Announcement).where(Announcement.id == announcement_id)
    if expected is not None:
        stmt = stmt.where(Announcement.status == AnnouncementStatus(expected))
    stmt = (
        stmt.values(status=AnnouncementStatus(status), updated_at=_aware(now or _now(), "now"))
        .returning(Announcement.id)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(stmt)).first() is not None


async def create_report(
    *,
    session: AsyncSession,
    user_id: int | None,
    chat_id: int,
    text: str,
    username: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Save a user's report; its id is the ticket number, never given twice."""
    row = Report(
        user_id=user_id,
        chat_id=chat_id,
        text=text,
        username=username,
        name=name,
        created_at=_aware(now or _now(), "now"),
        forwarded=False,
    )
    session.add(row)
    await session.flush()
    return row


async def get_report(*, session: AsyncSession, report_id: int) -> Report | None:
    """Return a report by ticket number, or None."""
    return await session.get(Report, report_id, populate_existing=True)


async def recent_reports(*, session: AsyncSession, limit: int = 20) -> list[Report]:
    """Return the latest reports, newest first."""
    stmt = select(Report).order_by(Report.id.desc()).limit(limit).execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())


async def count_reports(*, session: AsyncSession) -> tuple[int, int]:
    """Return how many reports are open and how many answered."""
    answered = func.count(Report.answered_at)
    opened, done = (await session.execute(select(func.count() - answered, answered))).one()
    return opened, done


async def report_of_notice(*, session: AsyncSession, chat_id: int, message_id: int) -> Report | None:
    """Return the report whose notice to an admin's chat is Telegram message `message_id` there, or None.

    The sender records each row's message ids (`telegram_message_ids`): a reply to the notice names one.
    """
    ids = OutboxRow.telegram_message_ids
    sent: ColumnElement[bool]
    if _is_postgres(session):
        sent = ids.cast(postgresql.JSONB).contains([message_id])
    else:
        sent = exists(
            select(1).select_from(func.json_each(ids).table_valued("value")).where(column("value") == message_id)
        )
    stmt = select(OutboxRow.key).where(OutboxRow.kind == OutboxKind.REPORT, OutboxRow.chat_id == chat_id, sent)
    key = (await session.execute(stmt.limit(1))).scalar()
    return None if key is None else await get_report(session=session, report_id=int(key))


async def answer_report(
    *, session: AsyncSession, report_id: int, answer: str, answered_by: int, now: datetime | None = None
) -> None:
    """Record an admin's answer to a report: it is answered (a later answer replaces the one kept)."""
    stmt = (
        update(Report)
        .where(Report.id == report_id)
        .values(answer=answer, answered_by=answered_by, answered_at=_aware(now or _now(), "now"))
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(stmt)


async def reports_to_forward(*, session: AsyncSession, limit: int = 20) -> list[Report]:
    """Return reports the admins have not been sent yet, oldest first."""
    stmt = (
        select(Report)
        .where(Report.forwarded.is_(False))
        .order_by(Report.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def mark_report_forwarded(*, session: AsyncSession, report_id: int) -> bool:
    """Record that the admins were sent a report; return whether it was not yet."""
    stmt = (
        update(Report)
        .where(Report.id == report_id, Report.forwarded.is_(False))
        .values(forwarded=True)
        .returning(Report.id)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(stmt)).first() is not None


async def bind_channel(
    *,
    session: AsyncSession,
    chat_id: int,
    title: str,
    bound_by: int,
    username: str | None = None,
    now: datetime | None = None,
) -> Channel:
    """Bind a channel for per-article posts, or re-bind it with its new title; return its row."""
    now = _aware(now or _now(), "now")
    stmt = _insert(session, Channel).values(
        chat_id=chat_id, title=title, username=username, bound_by=bound_by, active=True, created_at=now, updated_at=now
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[Channel.chat_id],
        set_={
            "title": new.title,
            "username": new.username,
            "bound_by": new.bound_by,
            "active": True,
            "updated_at": new.updated_at,
        },
    )
    channel_id = (await session.execute(stmt.returning(Channel.id))).scalar_one()
    row = await session.get(Channel, channel_id, populate_existing=True)
    if row is None:  # pragma: no cover - just written
        raise StorageError(f"channel {chat_id} vanished while binding")
    return row


async def unbind_channel(*, session: AsyncSession, chat_id: int, now: datetime | None = None) -> bool:
    """Stop posting to a channel; return whether it was bound."""
    stmt = (
        update(Channel)
        .where(Channel.chat_id == chat_id, Channel.active.is_(True))
        .values(active=False, updated_at=_aware(now or _now(), "now"))
        .returning(Channel.id)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(stmt)).first() is not None


async def active_channels(*, session: AsyncSession) -> list[Channel]:
    """Return the bound channels, in binding order."""
    stmt = (
        select(Channel).where(Channel.active.is_(True)).order_by(Channel.id).execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


# Stats ---------------------------------------------------------------------------------------------


async def delivery_stats(*, session: AsyncSession, since: datetime | None = None) -> DeliveryStats:
    """Return outbox rows by status, all time and since `since` (default: the last 24 h), and subscriber counts."""
    since = _aware(since, "since") if since is not None else _now() - timedelta(days=1)
    recent = func.sum(case((OutboxRow.updated_at >= since, 1), else_=0))
    rows = (await session.execute(select(OutboxRow.status, func.count(), recent).group_by(OutboxRow.status))).tuples()
    total: dict[OutboxStatus, int] = _by_status([])
    recent_rows: dict[OutboxStatus, int] = _by_status([])
    for status, count, changed in rows:
        total[status], recent_rows[status] = count, int(changed or 0)
    subscribers = (
        await session.execute(
            select(Subscriber.active, Subscriber.blocked_at.is_not(None), Subscriber.kind, func.count()).group_by(
                Subscriber.active, Subscriber.blocked_at.is_not(None), Subscriber.kind
            )
        )
    ).tuples()
    by_kind = {kind: 0 for kind in SubscriberKind}
    blocked = left = 0
    for active, was_blocked, kind, count in subscribers:
        if active:
            by_kind[kind] += count
        elif was_blocked:
            blocked += count
        else:
            left += count
    channels = select(func.count()).select_from(Channel).where(Channel.active.is_(True))
    return DeliveryStats(
        outbox_total=total,
        outbox_recent=recent_rows,
        subscribers_active=sum(by_kind.values()),
        subscribers_blocked=blocked,
        subscribers_left=left,
        subscribers_by_kind=by_kind,
        channels_active=(await session.execute(channels)).scalar_one(),
    )
