"""The send budget: slots reserved by every sender on the database follow one another."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import make_engine, make_sessionmaker, reserve_sends

pytestmark = pytest.mark.asyncio

T0 = 1_800_000_000.0  # seconds since the epoch


async def test_reservations_follow_each_other_and_idle_time_is_not_saved_up(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)

    async def reserve(count: int, now: float) -> float:
        async with sessions.begin() as session:
            return await reserve_sends(session=session, count=count, interval=0.04, now=now)

    assert await reserve(5, T0) == T0  # the first starts now
    assert await reserve(5, T0 + 0.01) == pytest.approx(T0 + 0.2)  # after the five before
    assert await reserve(1, T0 + 0.1) == pytest.approx(T0 + 0.4)
    assert await reserve(5, T0 + 3600) == T0 + 3600  # an idle hour allows no burst


async def test_senders_on_two_engines_never_get_the_same_slot(engine: AsyncEngine, migrated_url: str) -> None:
    other = make_engine(migrated_url)  # another process: its own engine and connections
    try:

        async def reserve(sessions_engine: AsyncEngine) -> float:
            async with make_sessionmaker(sessions_engine).begin() as session:
                return await reserve_sends(session=session, count=5, interval=0.04, now=T0)

        starts = sorted(await asyncio.gather(*(reserve(e) for e in [engine, other] * 10)))
    finally:
        await other.dispose()
    # Twenty reservations of 0.2 s each, back to back: no two overlap, none is lost.
    assert starts == pytest.approx([T0 + 0.2 * i for i in range(20)])
