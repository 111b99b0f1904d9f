"""The schema: typed SQLAlchemy models for sources, articles, summaries and fetch state."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ArticleRecord",
    "Base",
    "FetchState",
    "Source",
    "SummaryRecord",
    "UTCDateTime",
    "ZlibBytes",
]

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
