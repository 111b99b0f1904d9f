"""Alembic environment: the URL from -x url=…, NEWSBOT_DATABASE_URL or sqlalchemy.url; the models' metadata."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection

from storage._engine import async_url, make_engine
from storage._migrate import include_name
from storage._models import Base
from storage.errors import DatabaseUnavailable

config = context.config


def _url() -> str:
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("NEWSBOT_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise SystemExit("no database URL: pass -x url=…, or set NEWSBOT_DATABASE_URL")
    return url


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # A migration is frozen: it names the plain type a column stores, not our Python wrapper.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _configure(dialect_name: str, **target: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        compare_type=True,
        # SQLite alters most things by copying the table; Alembic's batch mode does that.
        render_as_batch=dialect_name == "sqlite",
        include_name=include_name,
        render_item=_render_item,
        **target,
    )


def _migrate(connection: Connection) -> None:
    _configure(connection.dialect.name, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_online(url: str) -> None:
    engine = make_engine(url)
    try:
        # One transaction for the whole upgrade: a failed step leaves the schema as it was.
        async with engine.begin() as connection:
            await connection.run_sync(_migrate)
    except DatabaseUnavailable:
        # aiosqlite stops a connection that failed to open without waiting for it: give its
        # thread a moment to finish, or it dies posting to this loop once asyncio.run closes it.
        await asyncio.sleep(0.05)
        raise
    finally:
        await engine.dispose()


if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    url = async_url(_url())
    _configure(url.get_backend_name(), url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_migrate_online(_url()))
