"""Errors of the storage package.

StorageError
├── InvalidDatabaseURL   a database URL we cannot use (also a ValueError)
├── DatabaseUnavailable  the database cannot be reached or opened, is locked or full
├── DatabaseFileGone     the SQLite file was deleted or replaced while open: writes are refused
├── MigrationError       the schema cannot be brought to this code's version
└── NotSubscribed        a chat that never subscribed (also a LookupError)
"""

from __future__ import annotations

__all__ = [
    "DatabaseFileGone",
    "DatabaseUnavailable",
    "InvalidDatabaseURL",
    "MigrationError",
    "NotSubscribed",
    "StorageError",
]


class StorageError(Exception):
    """Root of everything storage raises on its own account."""


class InvalidDatabaseURL(StorageError, ValueError):
    """The URL is malformed or names a database we do not support."""


class DatabaseUnavailable(StorageError):
    """The database cannot take statements for now: the server is down or unreachable, the connection
    was lost, the file cannot be opened, another writer held it past the busy timeout, or the disk
    is full. Nothing was written; trying again later is the remedy."""


class DatabaseFileGone(StorageError):
    """The SQLite file the engine opened was deleted or replaced under it. Its open connections
    would go on writing into the unlinked file, lost at stop, so writes are refused; restore the
    file (or accept a fresh one) and restart the process."""


class MigrationError(StorageError):
    """Alembic cannot upgrade the schema (e.g. the database was migrated by newer code)."""


class NotSubscribed(StorageError, LookupError):
    """The chat has never subscribed: there is no row to change."""
