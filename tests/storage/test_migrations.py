"""Migrations: up from empty, idempotent, down and up again, in step with the models."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from storage import DatabaseUnavailable, MigrationError, make_engine, upgrade
from storage._migrate import alembic_config, include_name
from storage._models import Base

TABLES = {
    "alembic_version",
    "announcements",
    "articles",
    "channels",
    "fetch_state",
    "outbox",
    "reports",
    "searches",
    "send_budget",
    "sources",
    "subscriber_filters",
    "subscriber_sources",
    "subscribers",
    "summaries",
}


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def _inspect(url: str, probe: Any) -> Any:
    """Return what `probe(sync_connection)` returns, on a connection to `url`."""

    async def run() -> Any:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(probe)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _state(connection: Connection) -> tuple[set[str], list[str]]:
    tables = {t for t in inspect(connection).get_table_names() if not t.startswith("articles_fts")}
    versions = [v for (v,) in connection.execute(text("SELECT version_num FROM alembic_version"))]
    return tables, versions


def test_upgrade_from_empty_then_again_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    assert _inspect(database_url, _state) == (TABLES, [_head()])
    upgrade(database_url)
    assert _inspect(database_url, _state) == (TABLES, [_head()])


def test_models_match_the_migrations(migrated_url: str) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return list(compare_metadata(context, Base.metadata))

    assert _inspect(migrated_url, diff) == []


def test_downgrade_to_base_and_up_again(migrated_url: str) -> None:
    command.downgrade(alembic_config(migrated_url), "base")
    assert _inspect(migrated_url, _state) == ({"alembic_version"}, [])
    upgrade(migrated_url)
    assert _inspect(migrated_url, _state) == (TABLES, [_head()])


def test_a_database_migrated_by_newer_code_is_refused(migrated_url: str) -> None:
    _inspect(migrated_url, lambda c: c.execute(text("UPDATE alembic_version SET version_num = '29991231_future'")))
    with pytest.raises(MigrationError, match="29991231_future"):
        upgrade(migrated_url)


@pytest.mark.parametrize(
    "url", ["sqlite:////nonexistent/directory/newsbot.db", "postgresql://postgres@127.0.0.1:1/test"]
)
def test_an_unreachable_database_is_reported(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot use"):
        upgrade(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///newsbot.db", "CREATE VIRTUAL TABLE articles_fts USING fts5"),
        ("postgresql://nobody@127.0.0.1:1/none", "USING gin (to_tsvector('simple'::regconfig, search_text))"),
    ],
)
def test_offline_mode_writes_the_sql_for_review(url: str, expected: str) -> None:
    config = alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    script = config.output_buffer.getvalue()
    assert "CREATE TABLE articles" in script
    assert expected in script


@pytest.mark.asyncio
async def test_upgrade_can_be_called_from_async_code(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar() == _head()
    finally:
        await engine.dispose()
