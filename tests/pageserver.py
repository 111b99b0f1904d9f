"""A local news site for tests and benchmarks: saved pages, feeds, and routes that misbehave.

    async with serve_site() as site:
        response = await fetcher.fetch(site.url("/pages/cnr-gbk.html"))
        assert site.hits["/pages/cnr-gbk.html"] == 1

In pytest, ask for the `page_server` fixture (one server per test, so counters start at zero).
The server listens on 127.0.0.1 on a free port and serves the files in tests/data/site/:

    /pages/{name}              the saved pages in `PAGES`, UTF-8 and GBK, with and without a charset,
                               and pages that are no article (a journal's issue list, site furniture)
    /list.html                 a list page linking those pages (duplicates, tracking params, furniture)
    /feed.rss, /feed.atom      feeds whose entries link those pages on this server
    /cached                    ETag and Last-Modified; 304 when the request's validator matches
    /flaky?failures=N          500 for the first N requests (default 1), then a page
    /slow?seconds=S            a page after S seconds (default 2)
    /busy?after=S&status=429   429 (or 503) with Retry-After: S on the first request, then a page
    /huge?mb=N                 an N MB page (default 20), generated and streamed, never held
    /loop/a, /loop/b           302 to each other, for ever
    /redirect                  302 to /pages/yunnan-daily.html
    /garbage                   4 KiB of random bytes labelled text/html

Every request is counted per path (`hits`), logged with its headers and arrival time (`log`),
and tracked while its handler runs (`in_flight`, `max_in_flight`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest_asyncio
from aiohttp import web

__all__ = ["ETAG", "LAST_MODIFIED", "PAGES", "SAMPLES", "SITE", "Hit", "PageServer", "page_server", "serve_site"]

SITE = Path(__file__).parent / "data" / "site"
NOT_ARTICLES = Path(__file__).parent / "data" / "verdict"
SAMPLES = Path(__file__).parents[1] / "ingest" / "samples"

# Served name → (saved file, Content-Type header).
PAGES = {
    "yunnan-daily.html": (SAMPLES / "yunnan-daily-2022-02-13.html", "text/html; charset=utf-8"),
    "yunnan-daily-nocharset.html": (SAMPLES / "yunnan-daily-2022-02-13.html", "text/html"),
    "cnr-gbk.html": (SAMPLES / "cnr-gb2312-2022-02-13.html", "text/html; charset=gbk"),
    # Only the <meta> says gb2312.
    "cnr-nocharset.html": (SAMPLES / "cnr-gb2312-2022-02-13.html", "text/html"),
    # No label anywhere: detection.
    "county-gbk.html": (SITE / "county-gbk-2024-06-12.html", "text/html"),
    "county-gbk-charset.html": (SITE / "county-gbk-2024-06-12.html", "text/html; charset=gbk"),
    # No article: titles that are links only, and a page of nothing but its footer.
    "journal-issue.html": (NOT_ARTICLES / "journal-issue.html", "text/html; charset=utf-8"),
    "icp-only.html": (NOT_ARTICLES / "icp-only.html", "text/html; charset=utf-8"),
}
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 12 Jun 2024 01:30:00 GMT"
_DEFAULT_PAGE = "yunnan-daily.html"
_CHUNK = ("<p>" + "填充文字" * 5000 + "</p>\n").encode()  # about 60 KiB

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Hit:
    """One request as the server saw it."""

    path: str
    query: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


@dataclass(slots=True)
class PageServer:
    """The running site: its address and what it has been asked."""

    base: str = ""  # http://127.0.0.1:<port>, set once listening
    hits: Counter[str] = field(default_factory=Counter)
    log: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base + path

    def arrivals(self, path: str) -> list[float]:
        """Return the arrival times of the requests for ``path``, in order."""
        return [hit.at for hit in self.log if hit.path == path]

    def routes(self) -> list[web.RouteDef]:
        """Return the site's routes."""
        return [
            web.get("/pages/{name}", self._page),
            web.get("/list.html", self._list),
            web.get("/feed.rss", self._feed),
            web.get("/feed.atom", self._feed),
            web.get("/cached", self._cached),
            web.get("/flaky", self._flaky),
            web.get("/slow", self._slow),
            web.get("/busy", self._busy),
            web.get("/huge", self._huge),
            web.get("/loop/{side}", self._loop),
            web.get("/redirect", self._redirect),
            web.get("/garbage", self._garbage),
        ]

    @web.middleware
    async def record(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Count and log the request and track how many are in flight while it runs."""
        self.hits[request.path] += 1
        self.log.append(Hit(request.path, request.query_string, dict(request.headers), time.monotonic()))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _page(self, request: web.Request) -> web.Response:
        return _saved_page(request.match_info["name"])

    async def _list(self, request: web.Request) -> web.Response:
        return web.Response(body=(SITE / "list.html").read_bytes(), content_type="text/html", charset="utf-8")

    async def _feed(self, request: web.Request) -> web.Response:
        # Feeds carry absolute links, so they name this server's address, known only now.
        body = (SITE / request.path.lstrip("/")).read_bytes().replace(b"http://SITE", self.base.encode())
        kind = "rss" if request.path.endswith(".rss") else "atom"
        return web.Response(body=body, headers={"Content-Type": f"application/{kind}+xml; charset=utf-8"})

    async def _cached(self, request: web.Request) -> web.Response:
        validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if_none_match = request.headers.get("If-None-Match")
        if_modified_since = request.headers.get("If-Modified-Since")
        # As RFC 9110 says, If-None-Match wins when both are sent.
        if if_none_match is not None:
            fresh = ETAG in if_none_match or if_none_match.strip() == "*"
        elif if_modified_since is not None:
            fresh = _not_after(if_modified_since, LAST_MODIFIED)
        else:
            fresh = False
        if fresh:
            return web.Response(status=304, headers=validators)
        response = _saved_page(_DEFAULT_PAGE)
        response.headers.update(validators)
        return response

    async def _flaky(self, request: web.Request) -> web.Response:
        if self.hits[request.path] <= int(request.query.get("failures", "1")):
            return web.Response(status=500, text="internal error")
        return _saved_page(_DEFAULT_PAGE)

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("seconds", "2")))
        return _saved_page(_DEFAULT_PAGE)

    async def _busy(self, request: web.Request) -> web.Response:
        if self.hits[request.path] == 1:
            status = int(request.query.get("status", "429"))
            return web.Response(status=status, headers={"Retry-After": request.query.get("after", "1")})
        return _saved_page(_DEFAULT_PAGE)

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        size = int(float(request.query.get("mb", "20")) * 1024 * 1024)
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        response.content_length = size
        await response.prepare(request)
        sent = 0
        try:
            while sent < size:
                part = _CHUNK[: size - sent]
                await response.write(part)  # waits while the client is not reading
                sent += len(part)
        except ConnectionError:
            pass  # the client stopped reading, which is what a size cap does
        return response

    async def _loop(self, request: web.Request) -> web.Response:
        other = "b" if request.match_info["side"] == "a" else "a"
        raise web.HTTPFound(f"/loop/{other}")

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/pages/{_DEFAULT_PAGE}")

    async def _garbage(self, request: web.Request) -> web.Response:
        return web.Response(body=random.Random(0).randbytes(4096), headers={"Content-Type": "text/html"})


@asynccontextmanager
async def serve_site(*, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[PageServer]:
    """Serve the test site on ``host`` (a free port unless given) until the block ends."""
    server = PageServer()
    app = web.Application(middlewares=[server.record])
    app.add_routes(server.routes())
    # Cancel a handler whose client left (a timed-out /slow), so shutdown does not wait for it.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        server.base = f"http://{bound_host}:{bound_port}"
        yield server
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def page_server() -> AsyncIterator[PageServer]:
    """Serve the test site on 127.0.0.1 for one test."""
    async with serve_site() as server:
        yield server


def _saved_page(name: str) -> web.Response:
    """Return a saved page with its Content-Type from `PAGES`, or 404."""
    if name not in PAGES:
        raise web.HTTPNotFound()
    path, content_type = PAGES[name]
    return web.Response(body=path.read_bytes(), headers={"Content-Type": content_type})


def _not_after(if_modified_since: str, last_modified: str) -> bool:
    """Tell whether the resource, changed at ``last_modified``, is unchanged since the given date."""
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
