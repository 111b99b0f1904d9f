"""Read one article from a URL or a saved file: fetch (conditionally), decode, parse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ingest._article import Article
from ingest._discover import canonical_url
from ingest._fetch import Fetcher
from ingest._fields import SHANGHAI
from ingest._parse import MAX_BYTES, parse
from ingest.errors import ParseError, TooLargeError

__all__ = ["Fetched", "fetch_article", "file_path", "is_file_url", "read_file"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """An article as read, with what conditional GET needs next time."""

    url: str  # canonical: what the article is stored under
    article: Article | None  # None: not modified since the validators we sent
    raw: bytes  # the bytes read, kept for re-extraction
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None


def is_file_url(url: str) -> bool:
    """Tell a ``file://`` URL (a `dir` source's page) from a web address."""
    return urlsplit(url).scheme == "file"


def read_file(path: Path, *, encoding: str | None = None, tz: tzinfo = SHANGHAI) -> Fetched:
    """Read and parse a saved page or text dump.

    Raises:
        ParseError: not a readable file.
        TooLargeError: over `MAX_BYTES`.
    """
    if path.is_dir():
        raise ParseError(f"{path} is a directory, not an article file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TooLargeError(f"{path} is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ParseError(f"{path}: no such file") from exc
    except OSError as exc:
        raise ParseError(f"{path}: {exc.strerror}") from exc
    url = path.resolve().as_uri()
    return Fetched(url, parse(raw, url=url, encoding=encoding, tz=tz), raw)


def file_path(url: str) -> Path:
    """Return the local path of a ``file://`` URL."""
    return Path(url2pathname(urlsplit(url).path))


async def fetch_article(
    url: str,
    fetcher: Fetcher,
    *,
    encoding: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    tz: tzinfo = SHANGHAI,
) -> Fetched:
    """Fetch and parse the article at `url`; `encoding` overrides the charset the server declares.

    Raises:
        FetchError: the page could not be fetched.
        DecodeError, ParseError: it holds no article.
    """
    if is_file_url(url):
        return read_file(file_path(url), encoding=encoding, tz=tz)
    response = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
    final = canonical_url(response.url)
    if response.not_modified:
        return Fetched(final, None, b"", response.status, etag, last_modified)
    article = parse(response.content, url=final, encoding=encoding or response.charset, tz=tz)
    return Fetched(final, article, response.content, response.status, response.etag, response.last_modified)
