"""The operator's routes: GET /healthz and GET /metrics, on `[web] listen`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError
from bot.web._metrics import Metrics
from storage import StorageError, database_healthy, outbox_backlog

__all__ = ["Ops", "serving"]

logger = logging.getLogger(__name__)

_OPS = web.AppKey("ops", "Ops")


@dataclass(frozen=True, slots=True)
class Ops:
    """What the routes look at: the database, the metrics, and whether the sender still runs."""

    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    sender_alive: Callable[[], bool]

    @property
    def engine(self) -> AsyncEngine:
        engine = self.sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        return engine


async def _healthz(request: web.Request) -> web.Response:
    """200 while the database takes statements and the outbox sender runs, 503 otherwise."""
    ops = request.app[_OPS]
    state = {"database": await database_healthy(ops.engine), "sender": ops.sender_alive()}
    return web.json_response(state, status=200 if all(state.values()) else 503)


async def _metrics(request: web.Request) -> web.Response:
    """The registry in Prometheus text, the outbox counted now."""
    ops = request.app[_OPS]
    outbox = ops.metrics.outbox
    try:
        async with ops.sessions() as session:
            backlog = await outbox_backlog(session=session)
    except (StorageError, SQLAlchemyError, OSError) as exc:
        # No count is better than the last one passed off as current; /healthz says why.
        logger.warning("/metrics: the outbox could not be counted: %s", exc)
        outbox.clear()
    else:
        for status, count in backlog.items():
            outbox.labels(status.value).set(count)
    # CONTENT_TYPE_LATEST carries its charset, which aiohttp wants apart.
    content_type, _, charset = CONTENT_TYPE_LATEST.partition("; charset=")
    return web.Response(body=generate_latest(ops.metrics.registry), content_type=content_type, charset=charset)


@contextlib.asynccontextmanager
async def serving(address: tuple[str, int], ops: Ops) -> AsyncIterator[None]:
    """Serve /healthz and /metrics on `address` until the block ends."""
    app = web.Application()
    app[_OPS] = ops
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)  # a scrape every 15 s would drown the bot's log
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, *address).start()
        except OSError as exc:  # taken, or not this machine's: say which setting, not a traceback
            raise ConfigError(f"cannot serve web.listen {address[0]}:{address[1]}: {exc.strerror}") from exc
        logger.info("serving /healthz and /metrics on http://%s:%d", *address)
        yield
    finally:
        await runner.cleanup()
