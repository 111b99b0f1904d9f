"""How the bot's calls reach the Bot API: python-telegram-bot's `BaseRequest` on an aiohttp session.

PTB's default, HTTPXRequest, sends through httpcore 1.0, whose pool scans every connection for every
queued request, several times a request (encode/httpx#3215). With the replies to a burst of
commands queued on 64 connections that scan was half of the bot's CPU; aiohttp's connector hands a
free connection out in constant time, and a sendMessage costs a sixth of the CPU it did (0.32 ms
against 2.09 at 16 in flight, bench/delivery.py). The errors are PTB's own, as HTTPXRequest
raises them: TimedOut when a timeout ran out, NetworkError for any other failure to get an answer.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # a timeout the caller left to the defaults


class AiohttpRequest(BaseRequest):
    """Bot API calls over at most `connections` connections, with HTTPXRequest's default timeouts.

    aiohttp has no write timeout: a write that stalls shows as the read timeout running out.
    """

    def __init__(
        self,
        connections: int,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connections
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout (PTB adds it to getUpdates' long-poll timeout)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
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
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
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
