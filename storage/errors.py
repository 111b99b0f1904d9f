"""Errors of the storage package.

    StorageError
    ├── InvalidDatabaseURL   a database URL we cannot use (also a ValueError)
    ├── DatabaseUnavailable  the database cannot be reached or opened
    └── MigrationError       the schema cannot be brought to this code's version
"""

from __future__ import annotations

__all__ = ["DatabaseUnavailable", "InvalidDatabaseURL", "MigrationError", "StorageError"]


class StorageError(Exception):
    """Root of everything storage raises on its own account."""


class InvalidDatabaseURL(StorageError, ValueError):
    """The URL is malformed or names a database we do not support."""


class DatabaseUnavailable(StorageError):
    """The database server is down or unreachable, or the database file cannot be opened."""


class MigrationError(StorageError):
    """Alembic cannot upgrade the schema (e.g. the database was migrated by newer code)."""
