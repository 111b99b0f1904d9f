"""Engines and sessions: the user-facing URL in, an async engine with the right driver out."""

from __future__ import annotations

import logging
import os
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin

from storage.errors import DatabaseFileGone, DatabaseUnavailable, InvalidDatabaseURL, StorageError

__all__ = ["async_url", "database_healthy", "make_engine", "make_sessionmaker"]

logger = logging.getLogger(__name__)

# The async driver for each backend we support, whatever driver the URL names.
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def async_url(url: str) -> URL:
    """Return `url` (sqlite:///…, postgresql://…, postgresql+psycopg://…) with our async driver.

    Raises:
        InvalidDatabaseURL: the URL is malformed or names another database.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        # Not echoed: a malformed URL may still hold a password.
        raise InvalidDatabaseURL("not a database URL: use sqlite:///… or postgresql://user:password@host/db") from exc
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise InvalidDatabaseURL(f"unsupported database {backend!r}: use sqlite:///… or postgresql://…")
    return parsed.set(drivername=_DRIVERS[backend])


def make_engine(url: str) -> AsyncEngine:
    """Return an async engine for `url`; SQLite gets WAL, foreign keys and real transactions, and
    refuses writes once its file is deleted or replaced (`_OpenFile`).

    Raises:
        InvalidDatabaseURL: the URL is malformed or names another database.
    """
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        if parsed.database and parsed.database != ":memory:":
            opened = _OpenFile(parsed.database)
            event.listen(engine.sync_engine, "do_connect", opened.before_connect)
            event.listen(engine.sync_engine, "connect", opened.connected)
    else:
        # A long-running bot outlives server restarts: test pooled connections before use.
        engine = create_async_engine(parsed, pool_pre_ping=True)
    event.listen(engine.sync_engine, "handle_error", _translate_error)
    return engine


async def database_healthy(engine: AsyncEngine) -> bool:
    """Tell whether `engine`'s database takes statements: SELECT 1 works and, on SQLite, the path
    still names the file the engine opened."""
    try:
        async with engine.connect() as connection:
            opened = connection.info.get(_OPEN_FILE)
            if isinstance(opened, _OpenFile):
                opened.check()
            await connection.execute(text("SELECT 1"))
    except (StorageError, SQLAlchemyError, OSError):
        return False
    return True


_OPEN_FILE = "newsbot_open_file"  # the key of a SQLite connection's _OpenFile in its info


class _OpenFile:
    """The SQLite file an engine was made for (or first created), which its path must keep naming.

    Deleted (or replaced) under a running process, the file lives on, unlinked, in the open
    connections, and every write into it is lost at stop. So each write transaction compares the
    path's os.stat (microseconds) with the file first opened, and is refused once they differ;
    no new connection is made to a missing path, which SQLite would create, empty.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        # (st_dev, st_ino) now, or once the first connect has created the file.
        self.identity = self._now()
        self._reported = False

    def _now(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def check(self) -> None:
        """Raise DatabaseFileGone when the path no longer names the file opened (logged once)."""
        if self.identity is None or self._now() == self.identity:
            return
        message = f"the database file {self.path} was deleted or replaced while open: writes are refused"
        if not self._reported:
            self._reported = True
            logger.error("%s; restore it and restart", message)
        raise DatabaseFileGone(message)

    def before_connect(self, _dialect: Any, _record: Any, _args: Any, _params: Any) -> None:
        self.check()

    def connected(self, _dbapi_connection: Any, record: Any) -> None:
        if self.identity is None:
            self.identity = self._now()
        record.info[_OPEN_FILE] = self


class _Session(Session):
    """A session that begins SQLite transactions itself (see `_begin_sqlite`)."""


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory; loaded rows stay readable after commit (no lazy reload in async).

    ``async with sessions.begin()`` is for writing: on SQLite it takes the write lock up front.
    ``async with sessions()`` is for reading: on SQLite it never waits for a writer (WAL).
    """
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_Session)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN comes only before DML, so a read-then-write would not be
    # one transaction and SAVEPOINT would misbehave; _begin_sqlite emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough under WAL, far fewer fsyncs
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(_Session, "after_begin")
def _begin_sqlite(_session: Session, transaction: SessionTransaction, connection: Any) -> None:
    if connection.dialect.name != "sqlite":
        return
    if transaction.origin is SessionTransactionOrigin.AUTOBEGIN:
        # A session used without begin() reads: a deferred BEGIN reads a snapshot and, under
        # WAL, never waits for a writer, so users' commands do not queue behind ingest.
        connection.exec_driver_sql("BEGIN")
    else:
        # begin() writes: IMMEDIATE takes the write lock up front, so concurrent writers wait
        # their turn (busy timeout) instead of failing when a read lock cannot be upgraded.
        # Not into a file deleted under us, though: all would be lost at stop.
        opened = connection.info.get(_OPEN_FILE)
        if opened is not None:
            opened.check()
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# SQLite result codes (sqlite3 exceptions carry them as sqlite_errorname) that say the file, not
# the statement, is the problem: another writer held the lock past the busy timeout, the disk is
# full, or the file cannot be read or written.
_SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN")
# PostgreSQL's class 53, insufficient resources: disk full, out of memory, too many connections.
_POSTGRES_UNAVAILABLE = "53"


def _translate_error(context: ExceptionContext) -> None:
    """Raise DatabaseUnavailable for a failed connect, a lost connection, a locked or full database."""
    # A failed pre-ping is handled by the pool, which reconnects. A cancelled task (SIGTERM mid-ingest)
    # counts as a disconnect to SQLAlchemy; turned into DatabaseUnavailable it would be retried or
    # logged as a failure instead of ending the task.
    if (
        context.is_pre_ping
        or not isinstance(context.original_exception, Exception)
        or not (context.is_disconnect or context.connection is None or _out_of_service(context.original_exception))
    ):
        return
    where = context.engine.url.render_as_string(hide_password=True) if context.engine else "the database"
    raise DatabaseUnavailable(f"cannot use {where}: {context.original_exception}") from context.sqlalchemy_exception


def _out_of_service(error: BaseException) -> bool:
    """Return whether a driver error means the database cannot take any statement for now.

    Callers treat these like a lost server: stop the run, keep the rows, try again later. Each
    article would otherwise wait out the busy timeout, or fail on the full disk, in turn.
    """
    name = getattr(error, "sqlite_errorname", None)
    if name is not None:
        return str(name).startswith(_SQLITE_UNAVAILABLE)
    return str(getattr(error, "sqlstate", None) or "").startswith(_POSTGRES_UNAVAILABLE)
