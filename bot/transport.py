"""How the bot's calls reach the Bot API: python-telegram-bot's `BaseRequest` on an aiohttp session.

PTB's default, HTTPXRequest, sends through httpcore 1.0, whose pool scans every connection for every
queued request, several times a request (encode/httpx#3215). With the replies to a burst of
commands queued on 64 connections that scan was half of the bot's CPU; aiohttp's connector hands a
free connection out in constant time, and a sendMessage costs a sixth of the CPU it did (0.32 ms
against 2.09 at 16 in flight, bench/delivery.py). The errors are PTB's own, as HTTPXRequest
raises them: TimedOut when a timeout ran out, NetworkError for any other failure to get an answer.

Where Telegram is reached only through a proxy, every call goes through one: http, https or socks5,
as PTB's ``.proxy()`` takes them.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from aiohttp_socks import ProxyConnector
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest", "environment_proxy"]

_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # a timeout the caller left to the defaults
_SOCKS = ("socks5", "socks5h")


def environment_proxy(url: str) -> str | None:
    """Return the proxy the environment names for `url`, as httpx picks it: HTTPS_PROXY (or HTTP_PROXY,
    by the URL's scheme), else ALL_PROXY; none for a host in NO_PROXY.

    Read once, not per call: aiohttp's `trust_env` looks it (and ~/.netrc) up in a thread on every
    request, which doubled a sendMessage's CPU.
    """
    parts = urlsplit(url)
    proxies = getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    return None if proxy is None or proxy_bypass(parts.netloc) else proxy


class AiohttpRequest(BaseRequest):
    """Bot API calls over at most `connections` connections, with HTTPXRequest's default timeouts,
    through `proxy` (a URL) if given.

    aiohttp has no write timeout: a write that stalls shows as the read timeout running out.
    """

    def __init__(
        self,
        connections: int,
        *,
        proxy: str | None = None,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connections
        self._socks: str | None = None
        self._http_proxy = proxy
        if proxy is not None and urlsplit(proxy).scheme in _SOCKS:
            # The connector tunnels through a socks5 proxy; aiohttp's own proxy= takes http(s) ones.
            self._socks, self._http_proxy = proxy.replace("socks5h://", "socks5://", 1), None
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._ready = False
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout (PTB adds it to getUpdates' long-poll timeout)."""
        return self._read

    async def initialize(self) -> None:
        """Let calls be made (again, after a shutdown).

        The session opens at the first call: PTB closes the requests only of a bot whose getMe
        succeeded, and the getUpdates request of one whose getMe failed has then opened nothing.
        """
        self._ready = True

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        self._ready = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._socks is not None:
            # The proxy resolves Telegram's name, as httpx has it do for PTB's socks5: where a proxy is
            # needed, the local resolver is often what keeps Telegram out of reach.
            connector: aiohttp.TCPConnector = ProxyConnector.from_url(self._socks, rdns=True, limit=self._connections)
        else:
            connector = aiohttp.TCPConnector(limit=self._connections)
        return aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one call; return its status and body."""
        if not self._ready:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if self._session is None:
            self._session = self._open()
        read = self._read if isinstance(read_timeout, _DEFAULT) else read_timeout
        connect = self._connect if isinstance(connect_timeout, _DEFAULT) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, _DEFAULT) else pool_timeout
        timeout = aiohttp.ClientTimeout(
            sock_read=read,
            sock_connect=connect,
            # aiohttp's connect is the wait for a free connection and the connecting together.
            connect=None if pool is None or connect is None else pool + connect,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout, proxy=self._http_proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts subclass it
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> aiohttp.JsonPayload | aiohttp.FormData | None:
    """Return the call's parameters as JSON, or as a multipart form when they hold files.

    The Bot API takes either (nested objects as JSON strings, as in a form). JSON costs a fraction of
    the form HTTPXRequest sends: percent-encoding an 840-character Chinese summary byte by byte
    takes 119 µs, json.dumps 7 µs, about a tenth of a reply's whole cost.
    """
    if request_data is None:
        return None
    if not request_data.contains_files:
        return aiohttp.JsonPayload(request_data.json_parameters)
    # Names as they are (UTF-8), as httpx and browsers send them, not percent-encoded.
    form = aiohttp.FormData(request_data.json_parameters, quote_fields=False, charset="utf-8")
    for name, upload in request_data.multipart_data.items():
        if isinstance(upload, tuple):
            filename, content, *mime = upload
            form.add_field(name, content, filename=filename, content_type=mime[0] if mime else None)
        else:
            form.add_field(name, upload)
    return form
