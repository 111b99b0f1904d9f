"""Every scheduled job, on APScheduler: each source's ingest on its own interval (never two runs of
one source at once, missed runs coalesced into one, a source that keeps failing tried less often),
the digests every 30 s, and `newsbot watch`, which runs the ingest alone."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.delivery import OutboxSender, enqueue_due_digests
from bot.pipeline import IngestTally
from bot.services import Services, open_services
from ingest import Source

__all__ = ["FIRST_RUN_SPACING", "job_id", "schedule_bot_jobs", "schedule_sources", "watch"]

logger = logging.getLogger(__name__)

RunSource = Callable[[Source], Awaitable[IngestTally]]
FIRST_RUN_SPACING = timedelta(seconds=5)


def job_id(source: Source) -> str:
    """Return the job id of a source's ingest run (names are unique in the config)."""
    return f"ingest:{source.name}"


def _trigger(every: timedelta, start: datetime | None = None) -> IntervalTrigger:
    return IntervalTrigger(seconds=every.total_seconds(), start_date=start, timezone=UTC)


def schedule_sources(scheduler: AsyncIOScheduler, sources: Sequence[Source], run: RunSource) -> None:
    """Add one interval job per source, the first runs `FIRST_RUN_SPACING` apart from now on.

    Spread, a start does not fetch every source at once (nor a restart of many processes).
    """
    now = datetime.now(UTC)
    for index, source in enumerate(sources):

        async def job(source: Source = source) -> None:
            try:
                tally = await run(source)
            except asyncio.CancelledError:
                # Shutting down: the articles stored so far are whole (one transaction each), and
                # the next start runs the source again. Ending quietly keeps APScheduler from
                # logging the cancellation as a failed job.
                logger.info("ingest run of %s stopped at shutdown", source.name)
                return
            except Exception:  # the database may be down: log it, the next run tries again
                logger.exception("ingest run of %s failed", source.name)
                return
            logger.info("ingest %s: %s", source.name, tally)
            current = scheduler.get_job(job_id(source))
            wanted = tally.next_in or source.interval
            if current is not None and current.trigger.interval != wanted:
                # Backing off (or recovering): runs move to the new spacing from now on.
                scheduler.reschedule_job(job_id(source), trigger=_trigger(wanted, datetime.now(UTC) + wanted))

        scheduler.add_job(
            job,
            trigger=_trigger(source.interval),
            id=job_id(source),
            name=f"ingest {source.name}",
            max_instances=1,  # a slow run is never overlapped by the next
            coalesce=True,  # after a pause, one catch-up run rather than a burst
            misfire_grace_time=max(1, int(source.interval.total_seconds())),
            next_run_time=now + min(index * FIRST_RUN_SPACING, source.interval),
            replace_existing=True,
        )


def schedule_bot_jobs(scheduler: AsyncIOScheduler, services: Services, sender: OutboxSender) -> None:
    """Add the bot's jobs: every source's ingest, and the digests due, checked every 30 s."""

    async def ingest(source: Source) -> IngestTally:
        tally = await services.ingest(source)
        sender.wake()  # channel posts of new articles are in the outbox now
        return tally

    async def digests() -> None:
        try:
            sent = await enqueue_due_digests(
                services.sessions, now=datetime.now(UTC), send_empty=services.settings.delivery.send_empty_digest
            )
        except asyncio.CancelledError:
            # Shutting down: each batch of digests committed whole; the next start enqueues the rest.
            logger.info("digest run stopped at shutdown")
            return
        if sent:
            sender.wake()

    schedule_sources(scheduler, services.sources, ingest)
    scheduler.add_job(
        digests,
        IntervalTrigger(seconds=30),
        id="digests",
        name="digests",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )


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
