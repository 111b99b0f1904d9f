"""The schema: typed SQLAlchemy models for sources, articles, summaries and fetch state, and for
delivery: subscribers, the outbox, announcements, reports and bound channels."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

from summarizer import Summary

__all__ = [
    "DEFAULT_DIGEST_SIZE",
    "DEFAULT_DIGEST_TIME",
    "DEFAULT_TIMEZONE",
    "Announcement",
    "AnnouncementStatus",
    "ArticleRecord",
    "Base",
    "Channel",
    "EnumText",
    "FetchState",
    "OutboxKind",
    "OutboxRow",
    "OutboxStatus",
    "Report",
    "Search",
    "SendBudget",
    "Source",
    "Subscriber",
    "SubscriberFilter",
    "SubscriberKind",
    "SubscriberSource",
    "SummaryRecord",
    "UTCDateTime",
    "ZlibBytes",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_DIGEST_TIME = time(8, 0)  # local time, in the subscriber's time zone
DEFAULT_DIGEST_SIZE = 10

# Deterministic constraint names, so later migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base; its metadata is what Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC and always read back aware, in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC, refusing naive values whose instant is unknown."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: storage needs an aware one")
        value = value.astimezone(UTC)
        # SQLite keeps no offset: store the UTC wall time, which also sorts correctly as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark SQLite's naive UTC values as UTC; move PostgreSQL's to UTC from the session zone."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ZlibBytes(TypeDecorator[bytes]):
    """Bytes stored zlib-compressed (a news page shrinks to about a fifth)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Compress on the way in."""
        return None if value is None else zlib.compress(value)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        """Decompress on the way out."""
        return None if value is None else zlib.decompress(value)


_E = TypeVar("_E", bound=StrEnum)


class EnumText(TypeDecorator[_E]):
    """A StrEnum stored as its value in a VARCHAR: a new member needs no migration, a typo is refused."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[_E]) -> None:
        self.enum = enum
        super().__init__(length=16)

    def process_bind_param(self, value: _E | str | None, dialect: Dialect) -> str | None:
        """Store the value, refusing one that is not a member's."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> _E | None:
        """Read the member back."""
        return None if value is None else self.enum(value)


class Source(Base):
    """A place articles come from, with the health of its scheduled runs."""

    __tablename__ = "sources"
    __table_args__ = ({"comment": "News sources and the health of their scheduled runs"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, comment="Name from the configuration")
    # Plain text: ingest owns the kinds (its SourceKind), so a new kind needs no migration here.
    kind: Mapped[str] = mapped_column(String(16), comment="How it is read: rss, listpage, page, dir …")
    url: Mapped[str] = mapped_column(String(2048), comment="Feed or listing page URL, or a path for files")
    consecutive_failures: Mapped[int] = mapped_column(default=0, comment="Failed runs since the last success")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it last ran, either way")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it last ran without error")
    last_error: Mapped[str | None] = mapped_column(Text, comment="Error of the last run; NULL after a success")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When the scheduler runs it next")


class ArticleRecord(Base):
    """A stored article, or a repost of one: a row that points at its original, without the text."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_dated_at", "dated_at", "id"),
        Index("ix_articles_fetched_at", "fetched_at"),  # a digest takes what was stored in a window
        {"comment": "Articles as extracted; a repost is a link to its original, not a second copy"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True, comment="Canonical URL, as ingest gives it")
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True, comment="Source it was fetched from")
    title: Mapped[str] = mapped_column(Text, comment="Headline")
    source_name: Mapped[str | None] = mapped_column(String(200), comment="来源: the outlet the page credits")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Publication time the page gives")
    dated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, comment="published_at, or fetched_at when the page gives none: what newest-first sorts by"
    )
    authors: Mapped[list[dict[str, str]]] = mapped_column(JSON, comment="Byline: [{role, name}] (记者, 通讯员 …)")
    editor: Mapped[str | None] = mapped_column(String(200), comment="责任编辑")
    paragraphs: Mapped[list[str]] = mapped_column(JSON, comment="Body paragraphs; empty for a repost")
    contacts: Mapped[list[dict[str, str | None]]] = mapped_column(
        JSON, comment="Reporting channels the page prints: [{label, value, kind}]"
    )
    images: Mapped[list[str]] = mapped_column(JSON, comment="Image URLs in body order")
    content_hash: Mapped[str] = mapped_column(
        String(64), index=True, comment="SHA-256 of the normalised title and body: finds exact duplicates"
    )
    simhash: Mapped[int] = mapped_column(BigInteger, comment="64-bit SimHash of the text, two's complement signed")
    # Two fingerprints within 3 bits share at least one of four 16-bit bands (within 7 bits, one
    # band is at most a bit apart): near-duplicate candidates are found through these indexes.
    simhash_band0: Mapped[int] = mapped_column(Integer, index=True, comment="Bits 0-15 of simhash, unsigned")
    simhash_band1: Mapped[int] = mapped_column(Integer, index=True, comment="Bits 16-31 of simhash, unsigned")
    simhash_band2: Mapped[int] = mapped_column(Integer, index=True, comment="Bits 32-47 of simhash, unsigned")
    simhash_band3: Mapped[int] = mapped_column(Integer, index=True, comment="Bits 48-63 of simhash, unsigned")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id"), comment="The original this row reposts; NULL for an original"
    )
    raw_html: Mapped[bytes | None] = mapped_column(
        ZlibBytes, deferred=True, comment="Fetched page, zlib-compressed, kept for re-extraction; NULL for a repost"
    )
    search_text: Mapped[str | None] = mapped_column(
        Text, deferred=True, comment="Title and body segmented by jieba, space-joined, for full-text search"
    )
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was first fetched")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When its stored content last changed")

    # What to credit: the outlet the page names, else the configured source's name (never blank).
    outlet: Mapped[str] = column_property(
        func.coalesce(
            source_name, select(Source.name).where(Source.id == source_id).correlate_except(Source).scalar_subquery()
        )
    )

    summary: Mapped[SummaryRecord | None] = relationship(lazy="raise", viewonly=True)


class SummaryRecord(Base):
    """The summary of one article, as the summariser's JSON."""

    __tablename__ = "summaries"
    __table_args__ = ({"comment": "One summary per original article"},)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, comment="The summarised article"
    )
    version: Mapped[str] = mapped_column(String(32), comment="Summariser version that made it")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, comment="Summary.to_dict()")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was computed")

    def to_summary(self) -> Summary:
        """Return the stored summary as the summariser's value."""
        return Summary.from_dict(self.data)


class FetchState(Base):
    """What the last fetch of a URL left behind: validators for a conditional GET, and errors."""

    __tablename__ = "fetch_state"
    __table_args__ = ({"comment": "Conditional-GET validators and error backoff, per fetched URL"},)

    url: Mapped[str] = mapped_column(String(2048), primary_key=True, comment="The fetched URL")
    etag: Mapped[str | None] = mapped_column(String(1024), comment="ETag of the last fresh response")
    last_modified: Mapped[str | None] = mapped_column(
        String(64), comment="Last-Modified of the last fresh response, verbatim, for If-Modified-Since"
    )
    last_status: Mapped[int | None] = mapped_column(comment="HTTP status of the last attempt; NULL without a response")
    error_count: Mapped[int] = mapped_column(default=0, comment="Failed attempts since the last success")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was last attempted")
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="Not to be fetched before then")
    last_error: Mapped[str | None] = mapped_column(Text, comment="Error of the last attempt; NULL after a success")


class SubscriberKind(StrEnum):
    """The kind of chat a subscriber is, as Telegram names it."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class OutboxKind(StrEnum):
    """What an outgoing message is; with its key, it names one broadcast."""

    DIGEST = "digest"  # key: the subscriber's local digest date, e.g. "2026-11-28"
    ANNOUNCEMENT = "announcement"  # key: the announcement id
    CHANNEL_POST = "channel_post"  # key: the article id
    REPORT = "report"  # key: the report's ticket number; one row per admin
    REPORT_ANSWER = "report_answer"  # key: "ticket:admin chat:admin's reply message id"; to the reporter's chat


class OutboxStatus(StrEnum):
    """Where an outgoing message is: pending → sending → sent | blocked | failed (or back to pending)."""

    PENDING = "pending"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by a sender; reclaimed when its lease runs out
    SENT = "sent"
    BLOCKED = "blocked"  # Telegram said Forbidden: the chat blocked or removed the bot
    FAILED = "failed"  # given up on


class AnnouncementStatus(StrEnum):
    """Where an admin's broadcast is."""

    DRAFT = "draft"
    SENDING = "sending"  # the admin pressed send: its outbox rows are being enqueued
    QUEUED = "queued"  # every subscriber has a row: sending until none is pending
    DONE = "done"
    CANCELLED = "cancelled"


class Subscriber(Base):
    """A chat that receives digests, with its settings."""

    __tablename__ = "subscribers"
    __table_args__ = (
        Index("ix_subscribers_active_next_digest_at", "active", "next_digest_at"),
        {"comment": "Chats that receive digests, and their settings; a chat that left stays, inactive"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, comment="Telegram chat id")
    user_id: Mapped[int | None] = mapped_column(BigInteger, comment="Telegram user who subscribed it, if known")
    kind: Mapped[SubscriberKind] = mapped_column(
        EnumText(SubscriberKind), comment="private, group, supergroup or channel"
    )
    language: Mapped[str] = mapped_column(String(16), comment="Language of its messages: zh, en …")
    script: Mapped[str] = mapped_column(
        String(8),
        default="hans",
        server_default="hans",
        comment="Chinese shown as hans (Simplified) or hant (Traditional)",
    )
    active: Mapped[bool] = mapped_column(default=True, comment="False after /stop or a Forbidden (see blocked_at)")
    blocked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When Telegram said Forbidden (blocked, kicked, deactivated); NULL otherwise"
    )
    digest_time: Mapped[time] = mapped_column(Time, comment="Local time of the daily digest, in timezone")
    timezone: Mapped[str] = mapped_column(String(64), comment="IANA time zone of digest_time: Asia/Shanghai …")
    digest_size: Mapped[int] = mapped_column(comment="At most this many articles in a digest")
    send_empty: Mapped[bool] = mapped_column(comment="Send a 'nothing new' digest when there is nothing")
    last_digest_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        comment="When the last digest was made, or (re)subscribing: the next digest is due after it",
    )
    next_digest_at: Mapped[datetime] = mapped_column(
        UTCDateTime, comment="First digest_time after last_digest_at, in UTC: finds due subscribers by index"
    )
    shown_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime,
        comment="The last digest held what was stored up to this, the rest waits for the next; NULL: all of it",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it first subscribed")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the row last changed")


class SubscriberSource(Base):
    """A source a subscriber follows; a subscriber with none follows them all."""

    __tablename__ = "subscriber_sources"
    __table_args__ = ({"comment": "Sources a subscriber follows; none means all of them"},)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True, comment="The subscriber"
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True, index=True, comment="A source it follows"
    )


class SubscriberFilter(Base):
    """A keyword a subscriber's digests must (include) or must not contain."""

    __tablename__ = "subscriber_filters"
    __table_args__ = ({"comment": "Keyword filters of digests: /filter 词 keeps matches, /filter -词 drops them"},)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True, comment="The subscriber"
    )
    keyword: Mapped[str] = mapped_column(String(64), primary_key=True, comment="The keyword, as typed")
    include: Mapped[bool] = mapped_column(comment="True: keep only articles with it (any such); False: drop them")


class OutboxRow(Base):
    """One outgoing message to one chat, written before it is sent, updated with what happened."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "key", "chat_id", name="uq_outbox_kind_key_chat_id"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        {"comment": "Delivery outbox: every broadcast message, one row per chat, before and after sending"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(
        EnumText(OutboxKind), comment="digest, announcement, channel_post, report or report_answer"
    )
    key: Mapped[str] = mapped_column(
        String(128), comment="Which one of its kind: digest date, announcement id, article id"
    )
    chat_id: Mapped[int] = mapped_column(BigInteger, comment="Telegram chat it goes to")
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment='The rendered message: {"parts": [{text, parse_mode, reply_markup …}, …]}, parts sent in order'
    )
    status: Mapped[OutboxStatus] = mapped_column(
        EnumText(OutboxStatus), comment="pending, sending, sent, blocked or failed"
    )
    attempts: Mapped[int] = mapped_column(default=0, comment="Sends tried, an expired claim included")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="Not to be sent before then")
    claimed_by: Mapped[str | None] = mapped_column(String(128), comment="Sender that claimed it last")
    claimed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="When it was claimed last: a 'sending' row older than the lease is reclaimed"
    )
    last_error: Mapped[str | None] = mapped_column(Text, comment="Error of the last failed attempt")
    telegram_message_ids: Mapped[list[int]] = mapped_column(
        JSON, default=list, comment="Telegram ids of the parts sent so far, in order: a retry resumes after them"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was enqueued")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When its status last changed")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it was sent; NULL until then")


class Announcement(Base):
    """An admin's broadcast to every active subscriber; its progress is its outbox rows' tally."""

    __tablename__ = "announcements"
    __table_args__ = ({"comment": "Admin broadcasts; their outbox rows have kind announcement, key the id"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_user_id: Mapped[int] = mapped_column(BigInteger, comment="Telegram user id of the admin who wrote it")
    text: Mapped[str] = mapped_column(Text, comment="The text, as the admin wrote it")
    status: Mapped[AnnouncementStatus] = mapped_column(
        EnumText(AnnouncementStatus), comment="draft, sending, queued, done or cancelled"
    )
    preview_chat_id: Mapped[int | None] = mapped_column(BigInteger, comment="Chat of the preview/progress message")
    preview_message_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="Telegram id of the preview/progress message, edited as it goes"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was written")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the row last changed")


class Report(Base):
    """A user's 举报 for the admins; its id is the ticket number."""

    __tablename__ = "reports"
    # AUTOINCREMENT on SQLite: a ticket number is never given twice.
    __table_args__ = ({"comment": "Users' reports (举报) sent to the admins", "sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True, comment="The ticket number")
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="Telegram user id of the reporter; NULL when Telegram gives none (a channel post)"
    )
    chat_id: Mapped[int] = mapped_column(BigInteger, comment="Chat it was sent from")
    username: Mapped[str | None] = mapped_column(String(64), comment="Reporter's @username: admins only")
    name: Mapped[str | None] = mapped_column(
        String(256), comment="Reporter's name as Telegram shows it (first and last): admins only"
    )
    text: Mapped[str] = mapped_column(Text, comment="What was reported")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was reported")
    forwarded: Mapped[bool] = mapped_column(default=False, comment="Whether the admins have been sent it")
    answer: Mapped[str | None] = mapped_column(Text, comment="An admin's latest answer to the reporter; NULL: open")
    answered_by: Mapped[int | None] = mapped_column(BigInteger, comment="Telegram user id of the admin who answered")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, comment="When it was last answered")


class Channel(Base):
    """A channel bound for per-article posts."""

    __tablename__ = "channels"
    __table_args__ = ({"comment": "Channels the bot posts each new article to"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, comment="Telegram chat id of the channel")
    title: Mapped[str] = mapped_column(String(256), comment="Channel title when bound")
    username: Mapped[str | None] = mapped_column(String(64), comment="@username of a public channel")
    bound_by: Mapped[int] = mapped_column(BigInteger, comment="Telegram user id of the admin who bound it")
    active: Mapped[bool] = mapped_column(default=True, comment="False once unbound or the bot lost access")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When it was first bound")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When the row last changed")


class SendBudget(Base):
    """A send rate shared by every sender on the database: when its next free slot starts.

    Senders reserve slots here a few at a time, so processes beside each other keep Telegram's
    overall limit together rather than each on its own.
    """

    __tablename__ = "send_budget"
    __table_args__ = ({"comment": "The next free send slot of each shared rate limit"},)

    name: Mapped[str] = mapped_column(String(32), primary_key=True, comment="Which limit: telegram, the bot's own")
    next_free: Mapped[float] = mapped_column(Float, comment="Seconds since the epoch when the next slot starts")


class Search(Base):
    """The words of a /search, kept so its [更多] button names them by id: old buttons work after a
    restart, and two searches in one chat each page through their own words."""

    __tablename__ = "searches"
    __table_args__ = ({"comment": "Words searched with /search, named by id in their result pages' buttons"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    words: Mapped[str] = mapped_column(String(500), unique=True, comment="The words as typed (one row per words)")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="When they were first searched")
