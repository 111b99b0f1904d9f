"""Engines: user-facing URLs get the async driver; SQLite gets WAL and foreign keys, and refuses
writes into a file deleted under it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import (
    DatabaseFileGone,
    DatabaseUnavailable,
    InvalidDatabaseURL,
    database_healthy,
    get_subscriber,
    make_engine,
    make_sessionmaker,
    subscribe,
    upgrade,
)
from storage._engine import _out_of_service, async_url


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


@pytest.mark.asyncio
async def test_a_locked_file_is_database_unavailable_but_a_broken_constraint_is_not(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    engine = make_engine(f"sqlite:///{path}?timeout=0.1")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        holder.execute("BEGIN EXCLUSIVE")  # another writer, past the busy timeout
        with pytest.raises(DatabaseUnavailable, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        holder.close()
        await engine.dispose()


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (psycopg.errors.DiskFull("could not extend file"), True),
        (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
        (psycopg.errors.UniqueViolation("duplicate key"), False),
        (psycopg.errors.LockNotAvailable("could not obtain lock"), False),
    ],
)
def test_postgresql_out_of_resources_is_out_of_service(error: Exception, unavailable: bool) -> None:
    assert _out_of_service(error) is unavailable


async def _subscribe(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> None:
    async with sessions.begin() as session:
        await subscribe(session=session, chat_id=chat_id, user_id=chat_id, kind="private", language="zh")


@pytest.mark.asyncio
async def test_a_database_that_answers_is_healthy(engine: AsyncEngine) -> None:
    assert await database_healthy(engine)


@pytest.mark.asyncio
async def test_an_unreachable_server_is_not_healthy() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/test")
    try:
        assert not await database_healthy(engine)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_a_deleted_sqlite_file_refuses_writes_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "newsbot.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    try:
        await _subscribe(sessions, 1)
        assert await database_healthy(engine)
        path.unlink()
        for chat_id in (2, 3, 4):
            with pytest.raises(DatabaseFileGone):
                await _subscribe(sessions, chat_id)
        assert not await database_healthy(engine)
        # A fresh connection is refused too, rather than SQLite creating an empty file at the path.
        await engine.dispose()
        assert not await database_healthy(engine)
        with pytest.raises(DatabaseFileGone):
            await _subscribe(sessions, 5)
        assert not path.exists()
    finally:
        await engine.dispose()
    gone = [r for r in caplog.records if r.levelno == logging.ERROR and "deleted or replaced" in r.getMessage()]
    assert len(gone) == 1


@pytest.mark.asyncio
async def test_a_sqlite_file_replaced_under_the_engine_refuses_writes(tmp_path: Path) -> None:
    path, copy = tmp_path / "newsbot.db", tmp_path / "backup.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    try:
        await _subscribe(sessions, 1)
        shutil.copy(path, copy)
        copy.replace(path)  # a restore from a backup while the process runs
        with pytest.raises(DatabaseFileGone):
            await _subscribe(sessions, 2)
        assert not await database_healthy(engine)
        async with sessions() as session:  # reads still answer, from the file opened
            assert await get_subscriber(session=session, chat_id=1) is not None
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_a_query_cancelled_at_shutdown_stays_cancelled(engine: AsyncEngine) -> None:
    # Not DatabaseUnavailable, which callers retry or log as a failure: the task must end, as asked.
    slow = (
        "SELECT pg_sleep(10)"
        if engine.dialect.name == "postgresql"
        # About a second here: long enough to be cut short, and SQLite's thread finishes it anyway
        # before the engine can close.
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000) SELECT count(*) FROM n"
    )

    async def query() -> None:
        async with make_sessionmaker(engine).begin() as session:
            await session.execute(text(slow))

    task = asyncio.create_task(query())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
