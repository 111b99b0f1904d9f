"""A local HTTP server that attacks the fetcher: bombs, endless and stalled bodies, redirects anywhere.

    async with serve_hostile() as server:
        await fetcher.fetch(server.url("/to?url=http://10.0.0.1/"))

In pytest, ask for the `hostile_server` fixture (or `hostile_server_2` for a second one on
another port). It listens on 127.0.0.1 on a free port:

    /to?url=U             302 to U (any URL: another port, another address, a name)
    /gzip-bomb?gb=N       Content-Encoding: gzip; about 1 MB on the wire per GB decompressed (default 10)
    /endless              a chunked HTML body that never ends
    /stall?bytes=N        N bytes of a page (default 1000), then silence with the connection open
    /page                 a small page
    /page?encoding=E      the same page compressed: gzip, deflate (zlib), rawdeflate, or sent as "br"
                          (not br at all), or "corrupt" (gzip label, garbage body)
    /list?u=U&u=V         a list page linking each U

Every request is counted per path (`hits`).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest_asyncio
from aiohttp import web

__all__ = [
    "PAGE",
    "TLS_CERT",
    "HostileServer",
    "gzip_bomb_parts",
    "hostile_server",
    "hostile_server_2",
    "serve_hostile",
]

TLS_CERT = Path(__file__).parent / "data" / "tls" / "news.example.pem"
# Sentences long enough to be news (正文。 alone is not: see ingest.verdict).
PAGE = (
    "<html><head><title>测试</title></head><body><h1>测试</h1><p>"
    + "本地新闻网的测试正文。" * 20
    + "</p></body></html>"
).encode()
_MIB = 1024 * 1024

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _compress(data: bytes, wbits: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@cache
def gzip_bomb_parts() -> tuple[bytes, bytes]:
    """Return a gzip stream's head and a segment that, repeated, each inflate to one MiB of zeros.

    A full flush empties the compressor's history, so after the first MiB every further MiB of
    zeros compresses to the same bytes: the bomb is the head and that segment N times, made
    without compressing gigabytes.
    """
    zeros = bytes(_MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert segment == compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head, segment


@dataclass(slots=True)
class HostileServer:
    """The running server: its address and what it has been asked."""

    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)  # body bytes written per path

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base + path

    @web.middleware
    async def count(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Count the request."""
        self.hits[request.path] += 1
        return await handler(request)

    def routes(self) -> list[web.RouteDef]:
        """Return the server's routes."""
        return [
            web.get("/to", self._to),
            web.get("/gzip-bomb", self._gzip_bomb),
            web.get("/endless", self._endless),
            web.get("/stall", self._stall),
            web.get("/page", self._page),
            web.get("/list", self._list),
        ]

    async def _to(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["url"])

    async def _page(self, request: web.Request) -> web.Response:
        encoding = request.query.get("encoding")
        if encoding is None:
            return web.Response(body=PAGE, content_type="text/html", charset="utf-8")
        body, label = {
            "gzip": (_compress(PAGE, 31), "gzip"),
            "deflate": (_compress(PAGE, 15), "deflate"),
            "rawdeflate": (_compress(PAGE, -15), "deflate"),
            "br": (PAGE, "br"),
            "corrupt": (b"\x1f\x8b\x08\x00garbage" * 10, "gzip"),
        }[encoding]
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": label})

    async def _list(self, request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="{url}">{url}</a></li>' for url in request.query.getall("u", []))
        body = f"<html><body><ul class='news'>{links}</ul></body></html>"
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    async def _gzip_bomb(self, request: web.Request) -> web.StreamResponse:
        head, segment = gzip_bomb_parts()
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        await response.prepare(request)
        await self._write(request, response, head)
        # Big writes, so each read of the client's gets as much compressed zeros as it can hold.
        batch = segment * 64
        for _ in range(int(request.query.get("gb", "10")) * 16):
            await self._write(request, response, batch)
        await response.write_eof()
        return response

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"<p>" + "没完没了。".encode() * 4000 + b"</p>\n"
        while True:  # ends when the client hangs up
            await self._write(request, response, chunk)

    async def _stall(self, request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("bytes", "1000"))
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        response.content_length = size * 2
        await response.prepare(request)
        await self._write(request, response, (PAGE * (size // len(PAGE) + 1))[:size])
        await asyncio.sleep(3600)  # the other half never comes; the client must give up
        return response

    async def _write(self, request: web.Request, response: web.StreamResponse, data: bytes) -> None:
        await response.write(data)
        self.sent[request.path] += len(data)


@asynccontextmanager
async def serve_hostile(*, tls: bool = False) -> AsyncIterator[HostileServer]:
    """Run the server on 127.0.0.1 on a free port for the duration of the block.

    ``tls``: serve HTTPS with the certificate of ``news.example`` in `TLS_CERT` (self-signed,
    so a client trusting that file verifies it).
    """
    server = HostileServer()
    app = web.Application(middlewares=[server.count])
    app.add_routes(server.routes())
    # Cancel a handler whose client left (an endless body, a stall), so shutdown does not wait for it.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    try:
        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(TLS_CERT, TLS_CERT.with_suffix(".key"))
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        host, port = runner.addresses[0][:2]
        server.base = f"{'https' if tls else 'http'}://{host}:{port}"
        yield server
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def hostile_server() -> AsyncIterator[HostileServer]:
    """Yield a running hostile server (fresh counters for each test)."""
    async with serve_hostile() as server:
        yield server


@pytest_asyncio.fixture
async def hostile_server_2() -> AsyncIterator[HostileServer]:
    """Yield a second hostile server, on another port: an address the first one can point at."""
    async with serve_hostile() as server:
        yield server
