"""Errors of the ingest package.

IngestError
├── DecodeError           bytes that are not text in any encoding we can tell
├── ParseError            text that holds no article (no title, no body)
│   └── NotAnArticle      a page read well that is an index, a menu or site furniture
├── TooLargeError         input over the size we accept
├── DiscoverError         a source that is not a feed, an HTML page or a folder
└── FetchError            the URL could not be fetched (each carries its ``url``)
    ├── HTTPStatusError   a status other than 2xx or 304, after retries where they apply
    ├── TooManyRedirects  more than max_redirects hops, a loop included
    ├── FetchTimeout      connect, read or whole-attempt time ran out, after retries
    ├── ConnectionFailed  refused, reset or dropped connection, after retries
    └── BlockedAddress    the host is (or resolves to) a non-public address no source names
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest._sources import Source

__all__ = [
    "BlockedAddress",
    "ConnectionFailed",
    "DecodeError",
    "DiscoverError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "IngestError",
    "NotAnArticle",
    "ParseError",
    "TooLargeError",
    "TooManyRedirects",
]


class IngestError(Exception):
    """Root of everything ingest raises on bad input."""


class DecodeError(IngestError, ValueError):
    """The bytes are binary or in no encoding we can decode."""


class ParseError(IngestError, ValueError):
    """The text holds no article."""


class NotAnArticle(ParseError):
    """The page reads well but is no article: an index, a menu, only site furniture."""


class TooLargeError(IngestError, ValueError):
    """The input is larger than we accept."""


class DiscoverError(IngestError):
    """The source was read but lists nothing we can use."""

    def __init__(self, source: Source, message: str) -> None:
        super().__init__(f"source {source.name!r}: {message}")
        self.source = source


class FetchError(IngestError):
    """The URL could not be fetched."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{message}: {url}")
        self.url = url


class HTTPStatusError(FetchError):
    """The server answered with a status other than 2xx or 304 (after retries, for passing ones)."""

    def __init__(self, url: str, status: int, *, retry_after: float | None = None) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said


class TooManyRedirects(FetchError):
    """The redirects went on longer than allowed, or in a loop."""


class FetchTimeout(FetchError):
    """The server was too slow to connect, answer or finish."""


class ConnectionFailed(FetchError):
    """The connection was refused, reset or dropped."""


class BlockedAddress(FetchError):
    """The host is, or resolves to, a loopback, private or other non-public address no source names."""
