"""Wiring: build the database, the fetcher and the scheduler from settings, and run them."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.jobs import IngestTally, Progress, ingest_source
from bot.scheduler import schedule_sources
from ingest import Fetcher, Source
from storage import make_engine, make_sessionmaker, upgrade

__all__ = ["Services", "open_services", "watch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived pieces every command and job shares."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher

    @property
    def sources(self) -> list[Source]:
        """Return the configured sources."""
        return [s.to_source() for s in self.settings.sources]

    async def ingest(self, source: Source, progress: Progress | None = None) -> IngestTally:
        """Run one pass over a source."""
        return await ingest_source(source, fetcher=self.fetcher, sessions=self.sessions, progress=progress)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Migrate the database to the current schema, then yield sessions and a fetcher."""
    # Alembic runs its own event loop: keep it off ours.
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with Fetcher(settings.fetch.to_config()) as fetcher:
            yield Services(settings, make_sessionmaker(engine), fetcher)
    finally:
        await engine.dispose()


async def watch(settings: Settings) -> None:
    """Ingest every source on its interval until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        scheduler = AsyncIOScheduler(timezone=settings.timezone)
        schedule_sources(scheduler, services.sources, services.ingest)
        scheduler.start()
        logger.info("watching %d sources; stop with Ctrl-C", len(services.sources))
        try:
            await stop.wait()
        finally:
            # Each article is stored in its own transaction: stopping mid-run leaves none half-stored.
            scheduler.shutdown(wait=False)
