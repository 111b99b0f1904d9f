"""The queries of articles, sources and their fetch state (`_delivery` holds delivery's).

Each takes a keyword-only `session` and never commits: the caller owns `session.begin()`, so an
article and what follows from it share one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import combinations
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, column, func, literal_column, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage._fulltext import index_text, query_words
from storage._models import ArticleRecord, FetchState, Search, Source, SummaryRecord
from summarizer import Summary

__all__ = [
    "NEAR_DUPLICATE_BITS",
    "StorableArticle",
    "StoreOutcome",
    "StoreResult",
    "article_count_by_source",
    "articles_needing_summary",
    "ensure_source",
    "get_article",
    "get_article_by_url",
    "get_fetch_state",
    "get_raw_html",
    "latest_articles",
    "list_sources_health",
    "recent_contacts",
    "record_source_run",
    "remember_search",
    "save_fetch_state",
    "save_summary",
    "saved_search_id",
    "schedule_source_run",
    "search_articles",
    "searched_words",
    "store_article",
    "stored_content_hash",
]

# Articles whose SimHashes differ in at most this many of 64 bits are the same report.
# Reposts with a credit or editor line added land within 6 of 64 SimHash bits.
NEAR_DUPLICATE_BITS = 6
_MAX_NEAR_DUPLICATE_BITS = 7  # up to here a band lookup probes at most 17 values per band
_MASK64 = (1 << 64) - 1
# PostgreSQL advisory lock key (any 64-bit number of our own) that makes article writers take turns.
_STORE_LOCK = 0x6E657773_62737472  # "newsbstr"


class _Author(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def name(self) -> str: ...


class _Contact(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def kind(self) -> str: ...


class StorableArticle(Protocol):
    """What storage reads from an article (ingest's `Article` has this shape)."""

    @property
    def url(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def authors(self) -> Sequence[_Author]: ...
    @property
    def editor(self) -> str | None: ...
    @property
    def paragraphs(self) -> Sequence[str]: ...
    @property
    def contacts(self) -> Sequence[_Contact]: ...
    @property
    def images(self) -> Sequence[str]: ...
    @property
    def content_hash(self) -> str: ...


class StoreOutcome(StrEnum):
    """What `store_article` did with an article."""

    NEW = "new"  # first seen: stored with its summary
    UPDATED = "updated"  # same URL, changed text: updated in place, summary replaced
    UNCHANGED = "unchanged"  # same URL, same text: nothing written
    DUPLICATE = "duplicate"  # another URL's text, exactly or nearly: stored as a link to it


@dataclass(frozen=True, slots=True)
class StoreResult:
    """The outcome, the row stored under the article's URL, and the original it reposts."""

    outcome: StoreOutcome
    article_id: int
    duplicate_of: int | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(session: AsyncSession, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Return an INSERT for `model` that supports ON CONFLICT on this session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def ensure_source(*, session: AsyncSession, name: str, kind: str, url: str) -> int:
    """Return the id of the source called `name`, adding it or updating its kind and URL."""
    stored = select(Source.id, Source.kind, Source.url).where(Source.name == name)
    found = (await session.execute(stored)).tuples().first()
    if found is not None and found[1:] == (kind, url):
        return found[0]  # as configured: no write, so no row lock held until the caller commits
    stmt = _insert(session, Source).values(name=name, kind=kind, url=url)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Source.name], set_={"kind": stmt.excluded.kind, "url": stmt.excluded.url}
    )
    return (await session.execute(stmt.returning(Source.id))).scalar_one()


async def store_article(
    *,
    session: AsyncSession,
    source_id: int,
    article: StorableArticle,
    raw_html: bytes | None,
    simhash: int,
    summary: Summary,
    fetched_at: datetime,
    near_duplicate_bits: int = NEAR_DUPLICATE_BITS,
    search_text: str | None = None,
) -> StoreResult:
    """Store an article and its summary once: new, updated, unchanged, or a link to its original.

    Args:
        simhash: the text's 64-bit SimHash, unsigned or two's complement signed.
        near_duplicate_bits: how many bits (0-7) a repost's SimHash may differ in from the original's.
        search_text: `index_text` of the article, when the caller computed it already (elsewhere).

    Raises:
        ValueError: the article has no URL, a datetime is naive, or simhash or near_duplicate_bits
            is out of range.
    """
    if not article.url:
        raise ValueError("an article needs a canonical URL to be stored")
    if not 0 <= near_duplicate_bits <= _MAX_NEAR_DUPLICATE_BITS:
        raise ValueError(f"near_duplicate_bits must be 0-{_MAX_NEAR_DUPLICATE_BITS}, not {near_duplicate_bits}")
    signed = _signed(simhash)
    if session.get_bind().dialect.name == "postgresql":
        # Deduplication reads, then writes: two transactions storing one URL or one text at once
        # would each find nothing and both insert. They take turns, as SQLite's single writer
        # (BEGIN IMMEDIATE) does; the summary was computed before, so a turn is a few queries.
        # Held until the transaction ends.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STORE_LOCK})
    record = await _article_by_url(session, article.url)
    if record is not None and record.content_hash == article.content_hash:
        return StoreResult(StoreOutcome.UNCHANGED, record.id, record.duplicate_of_id)
    # An original stays one when its text changes: its reposts keep pointing at it.
    is_original = record is not None and record.duplicate_of_id is None
    original_id = (
        None if is_original else await _find_original(session, article.content_hash, signed, near_duplicate_bits)
    )
    fresh = record is None
    if record is None:
        record = ArticleRecord(url=article.url, fetched_at=fetched_at)
    _fill(record, source_id, article, raw_html, signed, fetched_at, original_id, search_text)
    if fresh:
        # No other writer can have stored this URL since we looked: writers take turns (above).
        session.add(record)
        await session.flush()
    if original_id is not None:
        return StoreResult(StoreOutcome.DUPLICATE, record.id, original_id)
    await save_summary(session=session, article_id=record.id, summary=summary)
    return StoreResult(StoreOutcome.NEW if fresh else StoreOutcome.UPDATED, record.id)


def _signed(simhash: int) -> int:
    """Return a 64-bit fingerprint as the signed integer a BIGINT holds."""
    if not -(1 << 63) <= simhash <= _MASK64:
        raise ValueError(f"simhash {simhash} is not a 64-bit value")
    unsigned = simhash & _MASK64
    return unsigned - (1 << 64) if unsigned >> 63 else unsigned


def _bands(signed: int) -> list[int]:
    unsigned = signed & _MASK64
    return [(unsigned >> (16 * i)) & 0xFFFF for i in range(4)]


def _probes(band: int, radius: int) -> list[int]:
    """Return the 16-bit values within `radius` bits of `band`."""
    return [band ^ sum(1 << bit for bit in flips) for r in range(radius + 1) for flips in combinations(range(16), r)]


async def stored_content_hash(*, session: AsyncSession, url: str) -> str | None:
    """Return the content hash stored under a canonical URL, or None: lets the caller skip
    summarising a page that has not changed."""
    stmt = select(ArticleRecord.content_hash).where(ArticleRecord.url == url)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _article_by_url(session: AsyncSession, url: str) -> ArticleRecord | None:
    stmt = (
        select(ArticleRecord)
        .where(ArticleRecord.url == url)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _find_original(session: AsyncSession, content_hash: str, signed: int, bits: int) -> int | None:
    """Return the id of the original with this text, or failing that the nearest within `bits`."""
    originals = ArticleRecord.duplicate_of_id.is_(None)
    exact = select(ArticleRecord.id).where(originals, ArticleRecord.content_hash == content_hash)
    found = (await session.execute(exact.order_by(ArticleRecord.id).limit(1))).scalar_one_or_none()
    if found is not None:
        return found
    columns = [
        ArticleRecord.simhash_band0,
        ArticleRecord.simhash_band1,
        ArticleRecord.simhash_band2,
        ArticleRecord.simhash_band3,
    ]
    # Fingerprints within `bits` have a band within bits // 4 of ours (4 bands, pigeonhole): only
    # rows with such a band are candidates, each found through its band's index.
    radius = bits // 4
    close_band = or_(*(c.in_(_probes(band, radius)) for c, band in zip(columns, _bands(signed), strict=True)))
    rows = await session.execute(select(ArticleRecord.id, ArticleRecord.simhash).where(originals, close_band))
    near = [
        (distance, article_id)
        for article_id, other in rows
        if (distance := ((other ^ signed) & _MASK64).bit_count()) <= bits
    ]
    return min(near)[1] if near else None


def _fill(
    record: ArticleRecord,
    source_id: int,
    article: StorableArticle,
    raw_html: bytes | None,
    signed: int,
    fetched_at: datetime,
    original_id: int | None,
    search_text: str | None,
) -> None:
    """Copy the article onto its row; a repost keeps the metadata but not the text."""
    repost = original_id is not None
    record.source_id = source_id
    record.title = article.title
    record.source_name = article.source
    record.published_at = article.published_at
    record.dated_at = article.published_at or record.fetched_at
    record.authors = [{"role": a.role, "name": a.name} for a in article.authors]
    record.editor = article.editor
    record.paragraphs = [] if repost else list(article.paragraphs)
    record.contacts = [{"label": c.label, "value": c.value, "kind": str(c.kind)} for c in article.contacts]
    record.images = list(article.images)
    record.content_hash = article.content_hash
    record.simhash = signed
    record.simhash_band0, record.simhash_band1, record.simhash_band2, record.simhash_band3 = _bands(signed)
    record.duplicate_of_id = original_id
    record.raw_html = None if repost else raw_html
    if repost:
        record.search_text = None
    else:
        record.search_text = search_text if search_text is not None else index_text(article.title, article.paragraphs)
    record.updated_at = fetched_at


async def save_summary(*, session: AsyncSession, article_id: int, summary: Summary) -> None:
    """Store the summary of an article, replacing the one it had."""
    stmt = _insert(session, SummaryRecord).values(
        article_id=article_id, version=summary.version, data=summary.to_dict(), created_at=_now()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[SummaryRecord.article_id],
        set_={"version": stmt.excluded.version, "data": stmt.excluded.data, "created_at": stmt.excluded.created_at},
    )
    await session.execute(stmt)


async def save_search_text(*, session: AsyncSession, article_id: int, search_text: str) -> None:
    """Replace an article's search words; the full-text index follows (SQLite's triggers, PostgreSQL's
    expression index)."""
    await session.execute(update(ArticleRecord).where(ArticleRecord.id == article_id).values(search_text=search_text))


async def articles_needing_summary(
    *, session: AsyncSession, version: str, limit: int = 100, after_id: int = 0
) -> list[ArticleRecord]:
    """Return originals after `after_id` whose summary is missing or not of `version`, by id."""
    stmt = (
        select(ArticleRecord)
        .outerjoin(SummaryRecord)
        .where(
            ArticleRecord.duplicate_of_id.is_(None),
            ArticleRecord.id > after_id,
            or_(SummaryRecord.article_id.is_(None), SummaryRecord.version != version),
        )
        .order_by(ArticleRecord.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def get_article(*, session: AsyncSession, article_id: int) -> ArticleRecord | None:
    """Return an article with its summary loaded, or None."""
    return await _one_article(session, ArticleRecord.id == article_id)


async def recent_contacts(*, session: AsyncSession, articles: int = 200) -> dict[str, list[dict[str, str | None]]]:
    """Return the distinct reporting contacts printed on the newest articles by outlet (the page's 来源,
    else the configured source's name), outlets and their contacts first seen first."""
    stmt = (
        select(ArticleRecord.source_name, Source.name, ArticleRecord.contacts)
        .join(Source, Source.id == ArticleRecord.source_id)
        .order_by(ArticleRecord.id.desc())
        .limit(articles)
    )
    outlets: dict[str, dict[tuple[str | None, str | None], dict[str, str | None]]] = {}
    for outlet, source, contacts in await session.execute(stmt):
        seen = outlets.setdefault(outlet or source, {})
        for contact in contacts or []:
            seen.setdefault((contact.get("label"), contact.get("value")), contact)
    return {outlet: list(seen.values()) for outlet, seen in outlets.items() if seen}


async def get_article_by_url(*, session: AsyncSession, url: str) -> ArticleRecord | None:
    """Return the article stored under a canonical URL (the original it copies, for a repost)."""
    article = await _one_article(session, ArticleRecord.url == url)
    if article is not None and article.duplicate_of_id is not None:
        # A repost keeps no text of its own.
        return await _one_article(session, ArticleRecord.id == article.duplicate_of_id)
    return article


async def _one_article(session: AsyncSession, where: ColumnElement[bool]) -> ArticleRecord | None:
    stmt = (
        select(ArticleRecord)
        .where(where)
        .options(selectinload(ArticleRecord.summary))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_raw_html(*, session: AsyncSession, article_id: int) -> bytes | None:
    """Return the page an article was extracted from, decompressed, or None if not kept."""
    stmt = select(ArticleRecord.raw_html).where(ArticleRecord.id == article_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest_article_id(*, session: AsyncSession) -> int:
    """Return the highest article id (0 with none): it changes whenever an article is stored."""
    return int((await session.execute(select(func.max(ArticleRecord.id)))).scalar_one() or 0)


async def latest_articles(*, session: AsyncSession, limit: int = 20, offset: int = 0) -> list[ArticleRecord]:
    """Return originals newest first, with their summaries loaded."""
    return await _newest(session, ArticleRecord.duplicate_of_id.is_(None), limit, offset)


async def search_articles(
    *, session: AsyncSession, words: str, limit: int = 20, offset: int = 0
) -> list[ArticleRecord]:
    """Return the articles containing every word of `words` (Chinese is segmented), newest first."""
    terms = query_words(words)
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # The same expression as the GIN index ix_articles_search_text, or the index goes unused.
        simple = literal_column("'simple'::regconfig", postgresql.REGCONFIG)
        matches: ColumnElement[bool] = func.to_tsvector(simple, ArticleRecord.search_text).bool_op("@@")(
            func.plainto_tsquery(simple, " ".join(terms))
        )
    else:
        # Each word a quoted FTS5 string: nothing in a query is read as FTS5 syntax.
        query = " ".join('"{}"'.format(t.replace('"', '""')) for t in terms)
        hits = text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :query").bindparams(query=query)
        matches = ArticleRecord.id.in_(hits.columns(column("rowid", Integer)))
    return await _newest(session, matches, limit, offset)


async def saved_search_id(*, session: AsyncSession, words: str) -> int | None:
    """Return the id naming `words` in buttons, or None if they were never searched (a read only)."""
    return (await session.execute(select(Search.id).where(Search.words == words))).scalar_one_or_none()


async def remember_search(*, session: AsyncSession, words: str) -> int:
    """Return the id naming `words` in buttons, adding a row the first time they are searched.

    A write: read `saved_search_id` first, so a search asked before costs no write transaction.
    """
    stmt = _insert(session, Search).values(words=words, created_at=_now()).on_conflict_do_nothing()
    await session.execute(stmt)
    found = await saved_search_id(session=session, words=words)
    assert found is not None
    return found


async def searched_words(*, session: AsyncSession, search_id: int) -> str | None:
    """Return the words a search id names, or None (a button of another database, or tampered with)."""
    return (await session.execute(select(Search.words).where(Search.id == search_id))).scalar_one_or_none()


async def _newest(session: AsyncSession, where: ColumnElement[bool], limit: int, offset: int) -> list[ArticleRecord]:
    stmt = (
        select(ArticleRecord)
        .where(where)
        .order_by(ArticleRecord.dated_at.desc(), ArticleRecord.id.desc())
        .limit(limit)
        .offset(offset)
        .options(selectinload(ArticleRecord.summary))
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def get_fetch_state(*, session: AsyncSession, url: str) -> FetchState | None:
    """Return what the last fetch of `url` left, or None if it was never fetched."""
    return await session.get(FetchState, url, populate_existing=True)


async def save_fetch_state(
    *,
    session: AsyncSession,
    url: str,
    etag: str | None,
    last_modified: str | None,
    status: int | None,
    error: str | None,
    next_check_at: datetime | None = None,
    checked_at: datetime | None = None,
) -> None:
    """Record a fetch attempt of `url`; `error` None means it succeeded (a 304 included).

    A validator (etag, last_modified) is replaced when one is given, or by a 2xx response, whose
    fresh body it describes; a 304 or a failure without one keeps the stored one.
    """
    fresh = status is not None and 200 <= status < 300
    stmt = _insert(session, FetchState).values(
        url=url,
        etag=etag,
        last_modified=last_modified,
        last_status=status,
        error_count=0 if error is None else 1,
        checked_at=checked_at or _now(),
        next_check_at=next_check_at,
        last_error=error,
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[FetchState.url],
        set_={
            "etag": new.etag if etag is not None or fresh else FetchState.etag,
            "last_modified": new.last_modified if last_modified is not None or fresh else FetchState.last_modified,
            "last_status": new.last_status,
            "error_count": 0 if error is None else FetchState.error_count + 1,
            "checked_at": new.checked_at,
            "next_check_at": new.next_check_at,
            "last_error": new.last_error,
        },
    )
    await session.execute(stmt)


async def record_source_run(
    *,
    session: AsyncSession,
    source_id: int,
    ok: bool,
    error: str | None = None,
    next_run_at: datetime | None,
    ran_at: datetime | None = None,
) -> int:
    """Record a scheduled run of a source: a success clears the failure count, a failure adds one.

    Returns the failed runs in a row now counted, for the caller's backoff.
    """
    ran = ran_at or _now()
    values: dict[str, Any] = {"last_run_at": ran, "next_run_at": next_run_at}
    if ok:
        values |= {"consecutive_failures": 0, "last_success_at": ran, "last_error": None}
    else:
        values |= {"consecutive_failures": Source.consecutive_failures + 1, "last_error": error}
    stmt = update(Source).where(Source.id == source_id).values(values).returning(Source.consecutive_failures)
    return (await session.execute(stmt)).scalar_one()


async def schedule_source_run(*, session: AsyncSession, source_id: int, next_run_at: datetime) -> None:
    """Record when the scheduler will run a source next (after a backoff, say)."""
    await session.execute(update(Source).where(Source.id == source_id).values(next_run_at=next_run_at))


async def list_sources_health(*, session: AsyncSession) -> list[Source]:
    """Return every source with its run health, by name."""
    stmt = select(Source).order_by(Source.name).execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())


async def article_count_by_source(*, session: AsyncSession) -> dict[str, int]:
    """Return how many articles (reposts included) each source has given, zero included."""
    stmt = (
        select(Source.name, func.count(ArticleRecord.id))
        .outerjoin(ArticleRecord, ArticleRecord.source_id == Source.id)
        .group_by(Source.id, Source.name)
        .order_by(Source.name)
    )
    return {name: count for name, count in await session.execute(stmt)}
