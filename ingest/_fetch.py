"""Fetch pages over HTTP, politely and within bounds.

    >>> async with Fetcher(FetchConfig(delay=2.0)) as fetcher:
    ...     response = await fetcher.fetch("https://example.cn/news/1.html", etag=stored_etag)

Bounds: the body is streamed and cut at ``max_bytes``; every attempt has a connect, a read and a
whole-attempt timeout; redirects stop after ``max_redirects``. Addresses: a connection to a loopback,
private, link-local or otherwise non-public address is refused, on the first request and on every
redirect, unless ``allow_private`` names it literally (see `ingest._addresses`). Retries: timeouts, dropped
connections and statuses 429, 500, 502, 503 and 504 are retried with exponential backoff, or
after the server's ``Retry-After`` (capped at ``max_wait``) when it sends one. Politeness: at most ``per_host``
requests to one host at a time, their starts at least ``delay`` seconds apart, and a
``Retry-After`` holds back every request to that host, not only the one that got it.

Errors (each carries the ``url`` it was fetching)::

    IngestError
    └── FetchError            the URL could not be fetched: bad URL, protocol or encoding error
        ├── HTTPStatusError   a status other than 2xx or 304, after retries where they apply
        ├── TooManyRedirects  more than max_redirects hops, a loop included
        ├── FetchTimeout      connect, read or whole-attempt time ran out, after retries
        ├── ConnectionFailed  refused, reset or dropped connection, after retries
        └── BlockedAddress    the host is (or resolves to) a non-public address no source names
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self

import httpx

from ingest._addresses import (
    AddressPolicy,
    AddressRefused,
    GuardedTransport,
    Resolver,
    named_addresses,
    system_resolver,
)
from ingest.errors import (
    BlockedAddress,
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
)

__all__ = ["DEFAULT_USER_AGENT", "FetchConfig", "Fetcher", "Response"]

logger = logging.getLogger(__name__)

# Some Chinese portals serve an empty shell or a 403 to clients that do not look like a browser;
# the newsbot token still tells the site's operators who is reading.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 newsbot/0.1"
)
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.9,*/*;q=0.8"
_ACCEPT_LANGUAGE = "zh-CN,zh;q=0.9,en;q=0.5"
# Only what _Inflater decodes within the size cap (httpx would add br or zstd when installed).
_ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_STEP = 256 * 1024  # bytes of decompressed body per zlib call
# Statuses that say "not now" rather than "no": worth another attempt.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchConfig:
    """How the fetcher identifies itself, bounds each request, retries and spaces requests."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 5.0  # seconds
    read_timeout: float = 15.0  # seconds without a byte from the server
    # A server trickling a byte every few seconds never trips the read timeout.
    total_timeout: float = 60.0  # seconds for one attempt, from request to last byte
    max_bytes: int = 10 * 1024 * 1024  # longer bodies are cut here and marked truncated
    retries: int = 3  # further attempts after the first
    backoff_base: float = 0.5  # seconds before the first retry; doubles each time
    backoff_max: float = 30.0
    max_wait: float = 60.0  # a longer Retry-After is cut to this
    per_host: int = 2  # requests to one host in flight at once
    delay: float = 1.0  # seconds between the starts of requests to one host; 0 for none (per_host still holds)
    max_redirects: int = 5
    trust_env: bool = True  # use HTTP(S)_PROXY and NO_PROXY from the environment

    def __post_init__(self) -> None:
        """Reject limits that would disable fetching or make it wait forever."""
        positive = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "total_timeout": self.total_timeout,
            "max_bytes": self.max_bytes,
            "per_host": self.per_host,
        }
        non_negative = {
            "retries": self.retries,
            "backoff_base": self.backoff_base,
            "backoff_max": self.backoff_max,
            "max_wait": self.max_wait,
            "delay": self.delay,
            "max_redirects": self.max_redirects,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"FetchConfig.{name} must be positive, got {value}")
        for name, value in non_negative.items():
            if value < 0:
                raise ValueError(f"FetchConfig.{name} must not be negative, got {value}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Response:
    """What a fetch brought back: the body as bytes and the headers the pipeline needs."""

    url: str  # after redirects
    status: int
    content: bytes  # empty when not_modified
    content_type: str | None  # media type without parameters, lower case
    charset: str | None  # from the Content-Type header, as the server spelled it
    etag: str | None
    last_modified: str | None
    truncated: bool = False  # the body went on past max_bytes
    not_modified: bool = False  # 304: what the caller has is current


@dataclass(slots=True)
class _Host:
    """Politeness state for one host: its concurrency slots and the earliest next start."""

    slots: asyncio.Semaphore
    next_start: float = 0.0

    async def take_turn(self, delay: float) -> None:
        """Wait until this request may start and reserve the next start for the one after."""
        now = time.monotonic()
        start = max(now, self.next_start)
        self.next_start = start + delay
        if start > now:
            await asyncio.sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Keep every request to the host from starting for the next ``seconds``."""
        self.next_start = max(self.next_start, time.monotonic() + seconds)


class Fetcher:
    """An HTTP client for news sites; use it as ``async with Fetcher(config) as fetcher``.

    ``allow_private``: URLs the operator named (the sources, the command line); when one's host is
    an IP literal or ``localhost``, that address and port may be fetched even though it is not
    public. ``resolver`` turns a host name into addresses (the system's by default).
    """

    def __init__(
        self, config: FetchConfig | None = None, *, allow_private: Iterable[str] = (), resolver: Resolver | None = None
    ) -> None:
        self.config = config or FetchConfig()
        self._policy = AddressPolicy(named_addresses(allow_private), resolver or system_resolver)
        self._client: httpx.AsyncClient | None = None
        self._hosts: dict[str, _Host] = {}

    async def __aenter__(self) -> Self:
        """Open the HTTP client."""
        config = self.config
        transport: httpx.AsyncBaseTransport | None = GuardedTransport(self._policy, trust_env=config.trust_env)
        hooks: dict[str, list[Callable[[httpx.Request], Awaitable[None]]]] = {}
        if config.trust_env and {"http", "https", "all"} & set(urllib.request.getproxies()):
            # A proxy connects for us and resolves names again: check each hop's host before it
            # goes out (a rebinding DNS answer can still slip through the proxy). httpx uses the
            # environment's proxies only when given no transport of ours.
            transport, hooks = None, {"request": [self._check_hop]}
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": config.user_agent,
                "Accept": _ACCEPT,
                "Accept-Language": _ACCEPT_LANGUAGE,
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
            # No pool timeout: waiting for a free connection is queueing, not a slow server.
            timeout=httpx.Timeout(
                connect=config.connect_timeout, read=config.read_timeout, write=config.read_timeout, pool=None
            ),
            follow_redirects=True,
            max_redirects=config.max_redirects,
            trust_env=config.trust_env,
            transport=transport,
            event_hooks=hooks,
        )
        return self

    async def _check_hop(self, request: httpx.Request) -> None:
        """Refuse a request (first or redirected) whose host is an address no source names."""
        url = request.url
        try:
            await self._policy.addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {url.host} ({exc})", request=request) from exc

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the HTTP client and its connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        """Return the page at ``url``; with a stored ETag or Last-Modified, a 304 comes back as not_modified.

        Raises:
            FetchError: or one of its subclasses, when no attempt succeeded.
        """
        if self._client is None:
            raise RuntimeError("Fetcher is not open: use it as `async with Fetcher(config) as fetcher`")
        host = self._host(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                async with host.slots:
                    await host.take_turn(self.config.delay)
                    response = await self._attempt(self._client, url, headers)
                break
            except (HTTPStatusError, FetchTimeout, ConnectionFailed) as exc:
                if attempt >= self.config.retries or not _retryable(exc):
                    raise
                attempt += 1
                await self._pause(host, exc, attempt)
        if response.not_modified:
            # A 304 need not repeat the validators; the ones sent are then still current.
            response = replace(
                response, etag=response.etag or etag, last_modified=response.last_modified or last_modified
            )
        return response

    async def _pause(self, host: _Host, exc: FetchError, attempt: int) -> None:
        """Wait before retry number ``attempt``: as long as Retry-After says, else back off exponentially."""
        config = self.config
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        if retry_after is not None:
            wait = min(retry_after, config.max_wait)
            # The server spoke for the whole host: every request to it waits, this retry included.
            host.hold(wait)
            logger.info("%s; retry %d/%d after Retry-After %.1f s", exc, attempt, config.retries, wait)
            return
        wait = min(config.backoff_base * 2 ** (attempt - 1), config.backoff_max)
        logger.info("%s; retry %d/%d in %.2f s", exc, attempt, config.retries, wait)
        await asyncio.sleep(wait)

    def _host(self, url: str) -> _Host:
        """Return the politeness state of the URL's host, checking the URL on the way."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL ({exc})") from exc
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise FetchError(url, "not an absolute http(s) URL")
        host = self._hosts.get(parsed.host)
        if host is None:
            host = self._hosts[parsed.host] = _Host(asyncio.Semaphore(self.config.per_host))
        return host

    async def _attempt(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Response:
        """Make one request and return its response, translating every httpx error."""
        config = self.config
        try:
            async with asyncio.timeout(config.total_timeout), client.stream("GET", url, headers=headers) as response:
                return await self._read(url, response)
        except AddressRefused as exc:
            raise BlockedAddress(url, f"refused ({exc})") from exc
        except TimeoutError as exc:
            raise FetchTimeout(url, f"no complete response within {config.total_timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from exc
        except httpx.TooManyRedirects as exc:
            raise TooManyRedirects(url, f"more than {config.max_redirects} redirects") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ConnectionFailed(url, f"connection failed ({_describe(exc)})") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(url, f"fetch failed ({_describe(exc)})") from exc

    async def _read(self, url: str, response: httpx.Response) -> Response:
        """Return our `Response` for an open httpx response, reading at most max_bytes of its body."""
        status = response.status_code
        headers = response.headers
        if status != 304 and not 200 <= status < 300:
            retry_after = _parse_retry_after(headers.get("Retry-After")) if status in _RETRY_AFTER_STATUSES else None
            raise HTTPStatusError(url, status, retry_after=retry_after)
        content, truncated = b"", False
        if status != 304:
            content, truncated = await _read_capped(url, response, self.config.max_bytes)
        if truncated:
            logger.warning("%s: body longer than %d bytes; truncated", url, self.config.max_bytes)
        media_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
        return Response(
            url=str(response.url),
            status=status,
            content=content,
            content_type=media_type or None,
            charset=response.charset_encoding,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            truncated=truncated,
            not_modified=status == 304,
        )


class _Inflater:
    """Decompress a gzip or deflate body a bounded piece at a time.

    httpx inflates each network read in one go: 64 KiB of a gzip bomb becomes some 64 MB before
    the size cap can look at it. Here no call returns more than the caller has room for.
    """

    def __init__(self, url: str, encoding: str) -> None:
        self._url = url
        # 32 + MAX_WBITS reads a gzip or a zlib header; a raw deflate body is retried headerless.
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._raw_fallback = encoding == "deflate"
        self._started = False

    def inflate(self, data: bytes, room: int) -> tuple[bytes, bytes]:
        """Return at most ``room`` decompressed bytes of ``data`` and the input left for the next call."""
        if self._zlib.eof:
            return b"", b""  # trailing bytes after the stream: ignored, as browsers do
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error as exc:
            if self._started or not self._raw_fallback:
                raise FetchError(self._url, f"body does not decompress ({exc})") from exc
            self._zlib, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
            return self.inflate(data, room)
        self._started = True
        return out, self._zlib.unconsumed_tail


async def _read_capped(url: str, response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Return up to ``limit`` bytes of the body, decompressed, and whether more followed.

    The cap counts decompressed bytes, and memory stays near ``limit`` plus one network read
    whatever the compression ratio.
    """
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    inflater = None
    if encoding in {"gzip", "x-gzip", "deflate"}:
        inflater = _Inflater(url, encoding)
    elif encoding not in {"identity", ""}:
        raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")
    pieces: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        pending = chunk
        while pending:
            # One byte past the cap is enough to know the body went on.
            room = limit + 1 - size
            if inflater is None:
                piece, pending = pending[:room], b""
            else:
                # Small steps: zlib holds a call's whole output twice while it builds it.
                piece, pending = inflater.inflate(pending, min(room, _INFLATE_STEP))
            pieces.append(piece)
            size += len(piece)
            if size > limit:
                # Stop here: leaving the stream unread closes the connection instead of draining it.
                pieces[-1] = piece[: len(piece) - (size - limit)]
                return b"".join(pieces), True
    return b"".join(pieces), False


def _parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the seconds a Retry-After header asks for (delta-seconds or HTTP date), None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT; "-0000" parses as naive
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _retryable(exc: FetchError) -> bool:
    """Tell a passing failure (timeout, dropped connection, 429, 5xx) from a final answer."""
    return not isinstance(exc, HTTPStatusError) or exc.status in _RETRY_STATUSES


def _describe(exc: Exception) -> str:
    """Return an httpx error's message, or its class name when it has none."""
    return str(exc) or type(exc).__name__
