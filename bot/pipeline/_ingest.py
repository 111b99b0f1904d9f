"""Ingestion: discover → fetch → parse → judge → summarise → store, one source at a time.

Articles are summarised here, at ingest time, so no user request ever waits for the summariser.
Each article is stored in its own transaction: one bad page costs that page, not the run.
A page that is no article (an index, a menu, site furniture: `ingest.verdict`) is counted as
`not_article` and goes no further: neither summarised nor stored, so no digest can hold it.
Several articles of a run are in flight at once (`in_flight`): while one is summarised (in a
worker process, see `bot.pipeline.Analyzer`) others are fetched, parsed and stored. The Fetcher's per-host
limit and delay keep that polite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import IngestSettings
from bot.delivery import enqueue_channel_posts
from bot.pipeline._analysis import Analyzer
from ingest import (
    Article,
    Fetcher,
    IngestError,
    NotAnArticle,
    Source,
    SourceKind,
    discover,
    fetch_article,
    is_file_url,
    verdict,
)
from storage import (
    ArticleRecord,
    DatabaseUnavailable,
    StorageError,
    StoreOutcome,
    articles_needing_summary,
    ensure_source,
    get_fetch_state,
    index_text,
    record_source_run,
    save_fetch_state,
    save_search_text,
    save_summary,
    schedule_source_run,
    store_article,
    stored_content_hash,
)
from summarizer import VERSION, Summary, summarize

__all__ = [
    "FAILED",
    "NOT_ARTICLE",
    "OUTCOMES",
    "IngestTally",
    "backoff_interval",
    "ingest_page",
    "ingest_source",
    "ingest_targets",
    "ingest_urls",
    "resummarize_all",
]

logger = logging.getLogger(__name__)

FAILED = "failed"
NOT_ARTICLE = "not_article"  # read well, but an index, a menu or site furniture: not stored
# Every outcome of an article, in the order tallies show them.
OUTCOMES = (StoreOutcome.NEW, StoreOutcome.UPDATED, StoreOutcome.DUPLICATE, StoreOutcome.UNCHANGED, NOT_ARTICLE, FAILED)
# After this many failed runs in a row a source is tried less often (and `newsbot sources` says so).
FAILURES_BEFORE_BACKOFF = 10
_MAX_BACKOFF = 16  # times the configured interval

Progress = Callable[[str, str], None]  # (url, outcome) after each article
IN_FLIGHT = IngestSettings().in_flight  # the `[ingest] in_flight` default, for callers without settings
_IN_THREAD = Analyzer(0)


@dataclass(frozen=True, slots=True)
class _Outcome:
    outcome: str
    error: str | None = None
    article_id: int | None = None  # the article to show: the original, for a repost
    cause: Exception | None = None  # what failed, for a message in the user's language


@dataclass(slots=True)
class IngestTally:
    """What one run did: a count per outcome (new, updated, duplicate, unchanged, not_article, failed)."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    next_in: timedelta | None = None  # when the source should run again (longer while it fails)

    def add(self, outcome: str, error: str | None = None) -> None:
        """Count one article's outcome, keeping its error message."""
        self.counts[outcome] += 1
        if error:
            self.errors.append(error)

    def __str__(self) -> str:
        """Return the counts in words for the log: "5 new, 2 unchanged, 0 failed" (new and failed always)."""
        shown = (o for o in OUTCOMES if self.counts[o] or o in (StoreOutcome.NEW, FAILED))
        return ", ".join(f"{self.counts[o]} {o.replace('_', ' ')}" for o in shown)

    @property
    def total(self) -> int:
        """Return how many articles (or listings) the run looked at."""
        return sum(self.counts.values())


def backoff_interval(interval: timedelta, consecutive_failures: int) -> timedelta:
    """Return how long to wait before the next run of a source that keeps failing."""
    if consecutive_failures < FAILURES_BEFORE_BACKOFF:
        return interval
    return interval * min(2 ** (consecutive_failures - FAILURES_BEFORE_BACKOFF + 1), _MAX_BACKOFF)


def _with_contacts(article: Article, source: Source) -> Article:
    """Add the source's configured hotlines to those the page prints (sites often print none)."""
    if not source.contacts:
        return article
    extra = [c for c in source.contacts if c not in article.contacts]
    return replace(article, contacts=[*article.contacts, *extra])


@dataclass(frozen=True, slots=True)
class _Run:
    """What every article of one run shares."""

    source: Source
    source_id: int
    fetcher: Fetcher
    sessions: async_sessionmaker[AsyncSession]
    analyzer: Analyzer
    # SQLite has one writer (and every transaction here begins IMMEDIATE), and its busy wait sleeps
    # up to 100 ms a try, unfairly: a writer can lose every try for the whole busy timeout. The
    # articles of every run on one database in this process take turns on this lock instead, woken
    # at once, so ingest is one writer beside the outbox, however many sources run together.
    turn: AbstractAsyncContextManager[object] = field(default_factory=contextlib.nullcontext)

    @classmethod
    def of(
        cls,
        source: Source,
        source_id: int,
        fetcher: Fetcher,
        sessions: async_sessionmaker[AsyncSession],
        analyzer: Analyzer,
    ) -> _Run:
        bind = sessions.kw.get("bind")
        if bind is None or bind.dialect.name != "sqlite":
            return cls(source, source_id, fetcher, sessions, analyzer)
        turn = _SQLITE_TURNS.setdefault(bind, asyncio.Lock())
        return cls(source, source_id, fetcher, sessions, analyzer, turn)


_SQLITE_TURNS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


async def _ingest_one(url: str, run: _Run) -> _Outcome:
    """Read and store one article; return what happened."""
    source, sessions = run.source, run.sessions
    remote = not is_file_url(url)
    etag = last_modified = None
    # What is known of the URL, in one read: its validators, and the hash of the text stored for it.
    async with run.turn, sessions() as session:
        state = await get_fetch_state(session=session, url=url) if remote else None
        stored_hash = await stored_content_hash(session=session, url=url)
    if state is not None:
        etag, last_modified = state.etag, state.last_modified
    try:
        fetched = await fetch_article(
            url,
            run.fetcher,
            encoding=source.encoding,
            etag=etag,
            last_modified=last_modified,
            tz=ZoneInfo(source.timezone),
        )
    except IngestError as exc:
        if remote:
            async with run.turn, sessions.begin() as session:
                status = getattr(exc, "status", None)
                await save_fetch_state(
                    session=session, url=url, etag=None, last_modified=None, status=status, error=str(exc)
                )
        if isinstance(exc, NotAnArticle):  # read well, no article text in it: counted, not a failure
            logger.info("%s: %s", url, exc)
            return _Outcome(NOT_ARTICLE, cause=exc)
        return _Outcome(FAILED, str(exc), cause=exc)
    article = fetched.article
    if article is not None and fetched.url != url:  # redirected: the text is stored under the final URL
        async with run.turn, sessions() as session:
            stored_hash = await stored_content_hash(session=session, url=fetched.url)
    if article is not None and stored_hash == article.content_hash:
        article = None
    if article is not None and not (said := verdict(article)).is_article:
        # Judged before summarising, so an index costs no summary. What was stored under the URL
        # before stays as it was. No validators are kept: the page is read and judged afresh next
        # run, as a placeholder (调查问题加载中) may fill in.
        refused = NotAnArticle(f"not an article: {said.reason}")
        logger.info("%s: %s", url, refused)
        if remote:
            async with run.turn, sessions.begin() as session:
                await save_fetch_state(
                    session=session, url=url, etag=None, last_modified=None, status=fetched.status, error=str(refused)
                )
        return _Outcome(NOT_ARTICLE, cause=refused)
    analysis = None
    if article is not None:
        # Summarising is most of an article's cost: only for new or changed text, and before the
        # write transaction, which on SQLite holds the one write lock.
        article = _with_contacts(article, source)
        analysis = await run.analyzer(article)
    async with run.turn, sessions.begin() as session:
        outcome = _Outcome(StoreOutcome.UNCHANGED)
        if article is not None and analysis is not None:
            stored = await store_article(
                session=session,
                source_id=run.source_id,
                article=article,
                raw_html=fetched.raw,
                simhash=analysis.simhash,
                summary=analysis.summary,
                search_text=analysis.search_text,
                fetched_at=datetime.now(UTC),
            )
            # A repost keeps no text or summary of its own: the original is the article to show.
            outcome = _Outcome(stored.outcome, article_id=stored.duplicate_of or stored.article_id)
            if stored.outcome is StoreOutcome.NEW:
                # The article and its channel posts commit together: none is lost, none doubled.
                await enqueue_channel_posts(session, article_id=stored.article_id, zone=ZoneInfo(source.timezone))
        if remote:
            await save_fetch_state(
                session=session,
                url=url,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                status=fetched.status,
                error=None,
            )
    return outcome


async def ingest_urls(
    urls: Sequence[str],
    source: Source,
    source_id: int,
    *,
    fetcher: Fetcher,
    sessions: async_sessionmaker[AsyncSession],
    progress: Progress | None = None,
    analyzer: Analyzer = _IN_THREAD,
    in_flight: int = IN_FLIGHT,
) -> IngestTally:
    """Ingest the given article URLs (``file://`` included) on behalf of one source, `in_flight` at once."""
    run = _Run.of(source, source_id, fetcher, sessions, analyzer)
    tally = IngestTally()
    todo = iter(urls)

    async def worker() -> None:
        for url in todo:
            result = await _ingest_guarded(url, run)
            tally.add(result.outcome, result.error)
            if progress is not None:
                progress(url, result.outcome)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(in_flight, len(urls)))):
                group.create_task(worker())
    except* StorageError as errors:
        raise errors.exceptions[0] from None  # the database is down: the run stops as a whole
    return tally


async def _ingest_guarded(url: str, run: _Run) -> _Outcome:
    try:
        try:
            return await _ingest_one(url, run)
        except DatabaseUnavailable as exc:
            # A server restart costs the connections in the pool, not the run: once more on a
            # fresh one. An article's writes are one transaction, so a repeat stores it once.
            logger.warning("ingesting %s: %s; trying once more", url, exc)
            return await _ingest_one(url, run)
    except StorageError:
        raise  # the database is still down: every other article would fail the same way
    except Exception as exc:  # one broken page must not end the run
        logger.exception("ingesting %s failed", url)
        return _Outcome(FAILED, f"{url}: {type(exc).__name__}: {exc}", cause=exc)


async def ingest_page(
    url: str,
    source: Source,
    *,
    fetcher: Fetcher,
    sessions: async_sessionmaker[AsyncSession],
    analyzer: Analyzer = _IN_THREAD,
) -> tuple[Exception | None, int | None]:
    """Ingest one page of a source now (a user asked for it); return (what failed, article id)."""
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name=source.name, kind=source.kind, url=source.url)
    result = await _ingest_guarded(url, _Run.of(source, source_id, fetcher, sessions, analyzer))
    return result.cause, result.article_id


async def ingest_source(
    source: Source,
    *,
    fetcher: Fetcher,
    sessions: async_sessionmaker[AsyncSession],
    limit: int = 100,
    progress: Progress | None = None,
    analyzer: Analyzer = _IN_THREAD,
    in_flight: int = IN_FLIGHT,
) -> IngestTally:
    """Run one pass over a source: list its articles, ingest each, record the source's health."""
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name=source.name, kind=source.kind, url=source.url)
    try:
        urls = await discover(source, fetcher, limit=limit)
    except IngestError as exc:
        tally = IngestTally()
        tally.add(FAILED, f"{source.name}: {exc}")
        tally.next_in = await _record(sessions, source, source_id, ok=False, error=str(exc))
        return tally
    tally = await ingest_urls(
        urls,
        source,
        source_id,
        fetcher=fetcher,
        sessions=sessions,
        progress=progress,
        analyzer=analyzer,
        in_flight=in_flight,
    )
    # A run that read nothing at all failed, even though the listing worked.
    ok = not urls or tally.counts[FAILED] < len(urls)
    tally.next_in = await _record(sessions, source, source_id, ok=ok, error=None if ok else tally.errors[-1])
    return tally


async def _record(
    sessions: async_sessionmaker[AsyncSession], source: Source, source_id: int, *, ok: bool, error: str | None
) -> timedelta:
    """Record the run's result and when the source runs next; return that delay."""
    async with sessions.begin() as session:
        failures = await record_source_run(session=session, source_id=source_id, ok=ok, error=error, next_run_at=None)
        delay = backoff_interval(source.interval, failures)
        await schedule_source_run(session=session, source_id=source_id, next_run_at=datetime.now(UTC) + delay)
    if failures >= FAILURES_BEFORE_BACKOFF:
        logger.warning("source %s failed %d runs in a row; next try in %s", source.name, failures, delay)
    return delay


# Articles named on the command line are stored under this source.
COMMAND_LINE = "命令行"


async def ingest_targets(
    targets: Sequence[str],
    *,
    fetcher: Fetcher,
    sessions: async_sessionmaker[AsyncSession],
    progress: Progress | None = None,
    analyzer: Analyzer = _IN_THREAD,
    in_flight: int = IN_FLIGHT,
) -> IngestTally:
    """Ingest article URLs and files named by a person rather than listed by a source."""
    urls = [t if t.startswith(("http://", "https://")) else Path(t).resolve().as_uri() for t in targets]
    source = Source(name=COMMAND_LINE, kind=SourceKind.DIR, url=str(Path.cwd()))
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name=source.name, kind="manual", url="")
    return await ingest_urls(
        urls,
        source,
        source_id,
        fetcher=fetcher,
        sessions=sessions,
        progress=progress,
        analyzer=analyzer,
        in_flight=in_flight,
    )


def _reread(record: ArticleRecord) -> tuple[Summary, str]:
    """Summarise a stored article again, and segment it again for search."""
    return summarize(record), index_text(record.title, record.paragraphs)


async def resummarize_all(*, sessions: async_sessionmaker[AsyncSession], batch: int = 100) -> int:
    """Recompute every stored summary an older summariser version made, and its search words; return how many."""
    done = 0
    after = 0
    while True:
        async with sessions() as session:
            stale = await articles_needing_summary(session=session, version=VERSION, limit=batch, after_id=after)
        if not stale:
            return done
        for record in stale:
            # The summariser's segmenter also cuts the search words: a version that cuts differently would
            # leave old articles indexed under words a query is no longer cut into.
            summary, search_text = await asyncio.to_thread(_reread, record)
            async with sessions.begin() as session:
                await save_summary(session=session, article_id=record.id, summary=summary)
                await save_search_text(session=session, article_id=record.id, search_text=search_text)
            done += 1
        after = stale[-1].id
