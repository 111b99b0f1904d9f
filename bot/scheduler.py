"""Run each source on its own interval with APScheduler: never two runs of one source at once,
missed runs coalesced into one, and a source that keeps failing tried less often."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import IngestTally
from ingest import Source

__all__ = ["FIRST_RUN_SPACING", "job_id", "schedule_sources"]

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
