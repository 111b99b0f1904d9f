"""The scheduler: each source on its interval, never overlapping itself, backing off on failure."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from itertools import pairwise

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import FIRST_RUN_SPACING, job_id, schedule_sources
from bot.pipeline import IngestTally
from ingest import Source, SourceKind


def source(name: str, every: float) -> Source:
    return Source(name=name, kind=SourceKind.PAGE, url=f"https://{name}.example.cn/", interval=timedelta(seconds=every))


@pytest.mark.asyncio
async def test_runs_never_overlap_and_sources_run_independently() -> None:
    spans: dict[str, list[tuple[float, float]]] = {"slow": [], "quick": []}

    async def run(src: Source) -> IngestTally:
        start = time.monotonic()
        await asyncio.sleep(0.35 if src.name == "slow" else 0.01)
        spans[src.name].append((start, time.monotonic()))
        return IngestTally(next_in=src.interval)

    scheduler = AsyncIOScheduler()
    schedule_sources(scheduler, [source("slow", 0.1), source("quick", 0.1)], run)
    scheduler.start()
    try:
        await asyncio.sleep(1.2)
    finally:
        scheduler.shutdown(wait=False)
    slow = spans["slow"]
    assert 2 <= len(slow) <= 4  # a 0.35 s run every 0.1 s: the runs in between are skipped
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(slow))
    assert len(spans["quick"]) >= 6


@pytest.mark.asyncio
async def test_a_failing_source_is_rescheduled_less_often_and_recovers() -> None:
    backoff = {"flaky": timedelta(seconds=5)}

    async def run(src: Source) -> IngestTally:
        return IngestTally(next_in=backoff.get(src.name, src.interval))

    scheduler = AsyncIOScheduler()
    flaky = source("flaky", 0.1)
    schedule_sources(scheduler, [flaky], run)
    scheduler.start()
    try:
        await asyncio.sleep(0.2)
        job = scheduler.get_job(job_id(flaky))
        assert job is not None
        assert job.trigger.interval == timedelta(seconds=5)
        backoff.clear()  # it works again
        scheduler.modify_job(job.id, next_run_time=job.next_run_time - timedelta(seconds=5))
        scheduler.wakeup()
        await asyncio.sleep(0.2)
        assert scheduler.get_job(job.id).trigger.interval == flaky.interval
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.asyncio
async def test_an_exception_does_not_stop_the_schedule(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def run(src: Source) -> IngestTally:
        nonlocal calls
        calls += 1
        raise ConnectionError("database down")

    scheduler = AsyncIOScheduler()
    schedule_sources(scheduler, [source("down", 0.1)], run)
    scheduler.start()
    try:
        await asyncio.sleep(0.45)
    finally:
        scheduler.shutdown(wait=False)
    assert calls >= 3
    assert "ingest run of down failed" in caplog.text


@pytest.mark.asyncio
async def test_a_run_stopped_at_shutdown_is_not_logged_as_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    started = asyncio.Event()

    async def run(src: Source) -> IngestTally:
        started.set()
        await asyncio.sleep(60)  # a long ingest run, still going when the bot stops
        return IngestTally(next_in=src.interval)

    scheduler = AsyncIOScheduler()
    schedule_sources(scheduler, [source("busy", 60)], run)
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    scheduler.shutdown(wait=False)  # cancels the running job, as `newsbot run` does on SIGTERM
    await asyncio.sleep(0.05)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert "ingest run of busy stopped at shutdown" in caplog.messages


@pytest.mark.asyncio
async def test_first_runs_are_spread_rather_than_all_at_start() -> None:
    async def run(src: Source) -> IngestTally:
        return IngestTally()

    scheduler = AsyncIOScheduler()
    sources = [source(name, 3600) for name in ("a", "b", "c")]
    schedule_sources(scheduler, sources, run)
    scheduler.start(paused=True)
    try:
        firsts = [scheduler.get_job(job_id(s)).next_run_time for s in sources]
    finally:
        scheduler.shutdown(wait=False)
    assert [later - firsts[0] for later in firsts] == [timedelta(0), FIRST_RUN_SPACING, 2 * FIRST_RUN_SPACING]
