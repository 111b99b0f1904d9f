"""One leader among the processes sharing a database: the holder of a PostgreSQL advisory lock.

The lock is a session lock held on a connection of its own, so it ends with its holder: a process
that dies (killed, its host gone) drops its connection and the lock with it, and another takes it
over at its next try. The key is the schema's name, so deployments (and tests) sharing one
database in different schemas each have their own leader. SQLite has no such lock and is one
machine's file: every process leads.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["Leadership", "shared_database"]

logger = logging.getLogger(__name__)

_CLASS = 0x6E627363  # "nbsc": the first half of the lock's key, the schema's hash the second
_LOCK = text("SELECT pg_try_advisory_lock(:class, hashtext(current_schema()))")
_UNLOCK = text("SELECT pg_advisory_unlock(:class, hashtext(current_schema()))")


def shared_database(engine: AsyncEngine) -> bool:
    """Whether several processes can share `engine`'s database (PostgreSQL), so they must agree."""
    return engine.dialect.name == "postgresql"


class Leadership:
    """Take and keep the leadership of the processes on `engine`'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._held: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        """Whether several processes can share the database (PostgreSQL), so leading means something."""
        return shared_database(self.engine)

    async def take(self) -> bool:
        """Return whether this process leads now: the lock is held (taken now or before, and still alive)."""
        if not self.shared:
            return True
        try:
            if self._held is not None:
                await self._held.execute(text("SELECT 1"))  # the lock lives as long as this connection
                return True
            connection = await self.engine.connect()
            taken = await connection.scalar(_LOCK, {"class": _CLASS})
            await connection.commit()  # the lock is the session's: it outlives the transaction
        except (OperationalError, DBAPIError) as exc:
            logger.warning("leadership check failed: %s", exc)
            await self.release()
            return False
        if taken:
            self._held = connection
        else:
            await connection.close()  # no lock on it: back to the pool
        return bool(taken)

    async def release(self) -> None:
        """Give the leadership up (closing its connection releases the lock)."""
        held, self._held = self._held, None
        if held is not None:
            # Unlocked first: a closed connection's server session ends (and drops the lock) a
            # moment later, and a successor asking in that moment would be refused.
            with contextlib.suppress(OperationalError, DBAPIError):
                await held.execute(_UNLOCK, {"class": _CLASS})
            # Invalidated, not returned to the pool: whatever else the session held goes with it.
            await held.invalidate()
            await held.close()
