"""Schema migrations: run Alembic's upgrade from code, with the scripts shipped in this package."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError

from storage.errors import MigrationError

__all__ = ["MIGRATIONS", "alembic_config", "include_name", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for `url` that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # An attribute, not sqlalchemy.url: ini interpolation would choke on a %-escaped password,
    # and env.py lets it win over NEWSBOT_DATABASE_URL.
    config.attributes["url"] = url
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema; a no-op when it is already there.

    It blocks until done; from async code, `await asyncio.to_thread(upgrade, url)` keeps the loop free.

    Raises:
        InvalidDatabaseURL: the URL is malformed or names another database.
        DatabaseUnavailable: the database cannot be reached or opened.
        MigrationError: Alembic cannot upgrade it, e.g. it was migrated by newer code.
    """
    # env.py runs its own event loop, which a thread of our own lets it do even when the caller
    # is inside one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(command.upgrade, alembic_config(url), "head")
    try:
        done.result()
    except CommandError as exc:
        raise MigrationError(f"cannot migrate the database: {exc}") from exc


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Return False for the full-text objects autogenerate cannot describe (written by hand)."""
    return not (name or "").startswith(("articles_fts", "ix_articles_search_text"))
