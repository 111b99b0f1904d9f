"""The schema and every query: SQLAlchemy 2.0 async models, Alembic migrations, full-text search.

SQLite (WAL) by default, PostgreSQL in production. Queries take a keyword-only session and never
commit; the caller owns the transaction:

    >>> from storage import make_engine, make_sessionmaker, store_article, upgrade
    >>> upgrade("sqlite:///newsbot.db")  # blocks; async code may await asyncio.to_thread(upgrade, url)
    >>> sessions = make_sessionmaker(make_engine("sqlite:///newsbot.db"))
    >>> async with sessions() as session, session.begin():
    ...     result = await store_article(session=session, source_id=1, article=article, ...)
"""

from storage._engine import make_engine, make_sessionmaker
from storage._migrate import upgrade
from storage._models import ArticleRecord, FetchState, Source, SummaryRecord
from storage._repo import (
    NEAR_DUPLICATE_BITS,
    StorableArticle,
    StoreOutcome,
    StoreResult,
    article_count_by_source,
    articles_needing_summary,
    ensure_source,
    get_article,
    get_fetch_state,
    get_raw_html,
    latest_articles,
    list_sources_health,
    record_source_run,
    save_fetch_state,
    save_summary,
    schedule_source_run,
    search_articles,
    store_article,
)
from storage.errors import DatabaseUnavailable, InvalidDatabaseURL, MigrationError, StorageError

__all__ = [
    "NEAR_DUPLICATE_BITS",
    "ArticleRecord",
    "DatabaseUnavailable",
    "FetchState",
    "InvalidDatabaseURL",
    "MigrationError",
    "Source",
    "StorableArticle",
    "StorageError",
    "StoreOutcome",
    "StoreResult",
    "SummaryRecord",
    "article_count_by_source",
    "articles_needing_summary",
    "ensure_source",
    "get_article",
    "get_fetch_state",
    "get_raw_html",
    "latest_articles",
    "list_sources_health",
    "make_engine",
    "make_sessionmaker",
    "record_source_run",
    "save_fetch_state",
    "save_summary",
    "schedule_source_run",
    "search_articles",
    "store_article",
    "upgrade",
]
