"""Turn news sources into `Article` values: discover, fetch, decode, extract, parse text dumps, judge.

>>> from ingest import parse
>>> article = parse(open("page.html", "rb").read(), url="https://…")
>>> async with Fetcher(FetchConfig()) as fetcher:
...     urls = await discover(source, fetcher)
>>> verdict(article).is_article  # False for an index page or one of site furniture only
"""

from ingest._article import Article, Author, Contact, ContactKind
from ingest._decode import decode_html
from ingest._dedupe import hamming, simhash
from ingest._discover import canonical_url, discover
from ingest._fetch import DEFAULT_USER_AGENT, FetchConfig, Fetcher, Response
from ingest._html import extract_html
from ingest._parse import MAX_BYTES, parse
from ingest._read import Fetched, fetch_article, is_file_url, read_file
from ingest._sources import Source, SourceKind
from ingest._textdump import parse_text_dump
from ingest._verdict import Verdict, verdict
from ingest.errors import (
    BlockedAddress,
    ConnectionFailed,
    DecodeError,
    DiscoverError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    IngestError,
    NotAnArticle,
    ParseError,
    TooLargeError,
    TooManyRedirects,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_BYTES",
    "Article",
    "Author",
    "BlockedAddress",
    "ConnectionFailed",
    "Contact",
    "ContactKind",
    "DecodeError",
    "DiscoverError",
    "FetchConfig",
    "FetchError",
    "FetchTimeout",
    "Fetched",
    "Fetcher",
    "HTTPStatusError",
    "IngestError",
    "NotAnArticle",
    "ParseError",
    "Response",
    "Source",
    "SourceKind",
    "TooLargeError",
    "TooManyRedirects",
    "Verdict",
    "canonical_url",
    "decode_html",
    "discover",
    "extract_html",
    "fetch_article",
    "hamming",
    "is_file_url",
    "parse",
    "parse_text_dump",
    "read_file",
    "simhash",
    "verdict",
]
