"""Starting a stand-in server: on a free port if asked, and without an access log, as the paths
of both the Bot API and the robots' webhooks hold their secrets."""

from __future__ import annotations

from typing import Any

from aiohttp import web

__all__ = ["serve"]


async def serve(app: web.Application, host: str, port: int, **options: Any) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0: a free one); return its runner and the port it got."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, **options)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, runner.addresses[0][1]
