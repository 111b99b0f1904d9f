"""Engines: user-facing URLs get the async driver; SQLite gets WAL and foreign keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage import DatabaseUnavailable, InvalidDatabaseURL, make_engine
from storage._engine import async_url


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///newsbot.db", "sqlite+aiosqlite"),
        ("sqlite+pysqlite:///newsbot.db", "sqlite+aiosqlite"),
        ("postgresql://u@db/newsbot", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/newsbot", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@db/newsbot", "postgresql+psycopg"),
        ("postgres://u@db/newsbot", "postgresql+psycopg"),
    ],
)
def test_urls_get_the_async_driver(url: str, driver: str) -> None:
    assert async_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@db/newsbot", "not a url"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidDatabaseURL):
        make_engine(url)


@pytest.mark.asyncio
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/newsbot.db")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_a_refused_connection_is_database_unavailable() -> None:
    engine = make_engine("postgresql://postgres:secret@127.0.0.1:1/test")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is not None
