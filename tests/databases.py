"""Database fixtures: tests using them run on SQLite (a temp file) and on PostgreSQL (a schema of its own).

PostgreSQL comes from $NEWSBOT_TEST_POSTGRES_URL, by default postgres@127.0.0.1:5432/test; when it
cannot be reached the PostgreSQL variants are skipped, with the reason (or fail, when
$NEWSBOT_REQUIRE_POSTGRES is set, as .ci/run does).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache

import psycopg
import pytest
import pytest_asyncio
from psycopg import sql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import make_engine, make_sessionmaker, upgrade

POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@cache
def _postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None; asked once per run."""
    try:
        with psycopg.connect(_libpq(make_url(POSTGRES_URL)), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).strip()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'newsbot.db'}"
        return
    if (problem := _postgres_problem()) is not None:
        if os.environ.get("NEWSBOT_REQUIRE_POSTGRES"):
            pytest.fail(problem)  # CI promised a server: a skip would hide that nothing ran
        pytest.skip(problem)
    url = make_url(POSTGRES_URL)
    schema = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        # A session time zone other than UTC, so a value that came back in it would show.
        options = f"-c search_path={schema} -c timezone=Asia/Shanghai"
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """Return the URL of a database migrated to the newest schema."""
    upgrade(database_url)
    return database_url


@pytest_asyncio.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on the migrated database."""
    engine = make_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """Yield a session on the migrated database."""
    async with make_sessionmaker(engine)() as session:
        yield session
