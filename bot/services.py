"""What every handler and job shares: the long-lived services, and the bot's typed shared state.

Handlers reach the services through `context.bot_data`; this module imports no handler, so the
handlers and the application that registers them do not import each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import CallbackContext, ExtBot

from bot.alerts import ErrorAlerts
from bot.cache import ReplyCache
from bot.config import Settings
from bot.delivery import AnnouncementFollower, OutboxSender
from bot.pipeline import Analyzer, IngestTally, Progress, ingest_page, ingest_source
from bot.script import ScriptBook
from bot.texts import language_of
from bot.web import Metrics
from ingest import Fetcher, Source
from storage import StoreOutcome, make_engine, make_sessionmaker, upgrade

__all__ = ["BotData", "Context", "Services", "is_admin", "lang", "open_services"]


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived pieces every command and job shares."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    analyzer: Analyzer
    replies: ReplyCache

    @property
    def sources(self) -> list[Source]:
        """Return the configured sources."""
        return [s.to_source() for s in self.settings.sources]

    async def ingest(self, source: Source, progress: Progress | None = None) -> IngestTally:
        """Run one pass over a source."""

        def stored(url: str, outcome: str) -> None:
            if outcome in (StoreOutcome.NEW, StoreOutcome.UPDATED):
                self.replies.clear()  # users see a new article at once, not when kept replies expire
            if progress is not None:
                progress(url, outcome)

        return await ingest_source(
            source,
            fetcher=self.fetcher,
            sessions=self.sessions,
            progress=stored,
            analyzer=self.analyzer,
            in_flight=self.settings.ingest.in_flight,
        )

    async def ingest_page(self, url: str, source: Source) -> tuple[Exception | None, int | None]:
        """Fetch and store one page of a source now; return (what failed, article id)."""
        cause, article_id = await ingest_page(
            url, source, fetcher=self.fetcher, sessions=self.sessions, analyzer=self.analyzer
        )
        if article_id is not None:
            self.replies.clear()
        return cause, article_id


@asynccontextmanager
async def open_services(settings: Settings, urls: Sequence[str] = ()) -> AsyncIterator[Services]:
    """Migrate the database to the current schema, then yield sessions and a fetcher.

    ``urls`` (named on the command line) may be on local addresses, as sources may.
    """
    # Alembic runs its own event loop: keep it off ours.
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    analyzer = Analyzer(settings.ingest.workers)
    try:
        async with settings.fetcher(*urls) as fetcher:
            yield Services(settings, make_sessionmaker(engine), fetcher, analyzer, ReplyCache(settings.reply_cache))
    finally:
        analyzer.close()
        await engine.dispose()


@dataclass(slots=True)
class BotData:
    """What every handler shares; filled in by `bot.app` before the bot starts."""

    services: Services | None = None
    admins: frozenset[int] = frozenset()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    sender: OutboxSender | None = None
    announcements: AnnouncementFollower | None = None
    scripts: ScriptBook = field(default_factory=ScriptBook)  # what each update's chat reads
    alerts: ErrorAlerts = field(default_factory=ErrorAlerts)
    metrics: Metrics = field(default_factory=Metrics)  # this bot's own registry

    @property
    def ready(self) -> Services:
        """Return the services, which exist from start-up on."""
        assert self.services is not None, "bot.app sets the services before the bot starts"
        return self.services


Context = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]


def lang(update: Update) -> str:
    """Return the language to answer this update in."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


def is_admin(update: Update, context: Context) -> bool:
    """Tell whether the update comes from an admin (checked on every call, not when a menu was shown)."""
    user = update.effective_user
    return user is not None and user.id in context.bot_data.admins
