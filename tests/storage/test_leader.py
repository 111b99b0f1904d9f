"""One leader among the processes on a database: a PostgreSQL advisory lock, taken over when its holder goes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import Leadership, make_engine

pytestmark = pytest.mark.asyncio


async def test_one_process_leads_and_another_takes_over_when_it_goes(engine: AsyncEngine, migrated_url: str) -> None:
    other_engine = make_engine(migrated_url)  # another process: its own engine and connections
    first, second = Leadership(engine), Leadership(other_engine)
    try:
        assert await first.take()
        if not first.shared:  # SQLite: one machine's file, every process leads
            assert await second.take()
            return
        assert await first.take()  # held, and still alive
        assert not await second.take()
        await first.release()  # as when its process dies: the connection, and the lock, are gone
        assert await second.take()
        assert not await first.take()
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()
