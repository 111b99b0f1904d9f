"""Find the article URLs a source lists: feed entries, list-page links, one page, a folder's files.

    >>> async with Fetcher(config) as fetcher:
    ...     urls = await discover(source, fetcher)

Only URLs come back: each article is fetched and parsed afterwards, because a feed's summary or a
list page's teaser is not the article. URLs are absolute, without fragments, in the order the
source lists them, and unique by `canonical_url` (the first spelling wins). A feed or list page
can only yield http(s) URLs, so a hostile page cannot point the pipeline at local files; the
files of a `dir` source come back as ``file://`` URLs, sorted by name, which `Fetcher` does not
fetch: read them at ``Path(urllib.request.url2pathname(urlsplit(url).path))``.

Errors: fetching and decoding raise `FetchError` and `DecodeError` as they are; what is fetched
but lists nothing readable raises::

    IngestError
    └── DiscoverError   not a feed, not an HTML page, or no such folder
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote_plus, urldefrag, urljoin, urlsplit, urlunsplit

import feedparser
import lxml.html
from lxml import etree

from ingest._decode import decode_html
from ingest._fetch import Fetcher, Response
from ingest._sources import Source, SourceKind
from ingest.errors import DiscoverError

__all__ = ["canonical_url", "discover"]

logger = logging.getLogger(__name__)

_FILE_SUFFIXES = frozenset({".html", ".htm", ".txt"})
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# Query parameters that say who shared or clicked a link, not which article it is:
# analytics (utm_*, spm, gclid) and the share trail WeChat, Weibo and news apps append.
_TRACKING_PREFIXES = ("utm_", "share")
_TRACKING_PARAMS = frozenset(
    {"spm", "from", "fbclid", "gclid", "isappinstalled", "scene", "srcid", "wfr", "clicktime", "enterid", "tt_from"}
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


async def discover(source: Source, fetcher: Fetcher, *, limit: int = 100) -> list[str]:
    """Return the URLs of the articles the source lists, at most ``limit`` of them.

    Raises:
        FetchError: the feed or list page could not be fetched.
        DecodeError: the list page is not text.
        DiscoverError: the feed is not a feed, the page not HTML, the folder missing.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    match source.kind:
        case SourceKind.RSS:
            urls = _feed_links(source, await fetcher.fetch(source.url))
        case SourceKind.LISTPAGE:
            urls = _page_links(source, await fetcher.fetch(source.url))
        case SourceKind.PAGE:
            urls = iter([source.url])
        case SourceKind.DIR:
            urls = iter(await asyncio.to_thread(_folder_files, source))
    return _unique(urls, limit)


def canonical_url(url: str) -> str:
    """Return the form of ``url`` two spellings of one article share, for de-duplication.

    Lower-cases the scheme and host, drops a default port, the fragment and tracking parameters
    (utm_*, share*, spm, from …) and sorts the remaining query parameters by name. Parameters
    are compared undecoded, so a GBK-encoded query survives unchanged.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    userinfo, at, host = parts.netloc.rpartition("@")
    host = host.lower().removesuffix(_DEFAULT_PORTS.get(scheme, ""))
    path = parts.path or ("/" if host else "")
    params = [param for param in parts.query.split("&") if param and not _is_tracking(param)]
    params.sort(key=lambda param: param.partition("=")[0])
    return urlunsplit((scheme, f"{userinfo}{at}{host}", path, "&".join(params), ""))


def _is_tracking(param: str) -> bool:
    """Tell whether a ``name=value`` query parameter only tracks the click."""
    name = unquote_plus(param.partition("=")[0]).lower()
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _unique(urls: Iterable[str], limit: int) -> list[str]:
    """Return the first ``limit`` URLs that differ in canonical form, in their order."""
    seen: set[str] = set()
    unique: list[str] = []
    for url in urls:
        key = canonical_url(url)
        if key in seen:
            continue
        seen.add(key)
        unique.append(url)
        if len(unique) == limit:
            break
    return unique


def _absolute(base: str, href: str | None) -> str | None:
    """Return ``href`` resolved against ``base`` without its fragment, None unless it is http(s)."""
    if not href or not href.strip():
        return None
    url = urldefrag(urljoin(base, href.strip())).url
    return url if urlsplit(url).scheme in {"http", "https"} else None


def _feed_links(source: Source, response: Response) -> Iterator[str]:
    """Yield the article link of each feed entry, in feed order."""
    content_type = response.content_type or "application/xml"
    charset = source.encoding or response.charset
    headers = {
        # Tells feedparser the base for relative links and, with a charset, how to decode.
        "content-location": response.url,
        "content-type": f"{content_type}; charset={charset}" if charset else content_type,
    }
    feed = feedparser.parse(response.content, response_headers=headers)
    if feed.bozo and not feed.entries:
        raise DiscoverError(source, f"{response.url} is not a feed ({feed.get('bozo_exception')})")
    if feed.bozo:
        logger.debug("feed %s is malformed but readable: %s", response.url, feed.get("bozo_exception"))
    for entry in feed.entries:
        url = _absolute(response.url, entry.get("link"))
        if url is not None:
            yield url


def _page_links(source: Source, response: Response) -> Iterator[str]:
    """Yield the links of a list page the source's pattern or selector picks, in page order."""
    if source.encoding:
        text = response.content.decode(source.encoding, errors="replace")
    else:
        text = decode_html(response.content, declared=response.charset)
    root = _html_tree(source, text)
    base_tag = root.find(".//base[@href]")
    base = urljoin(response.url, base_tag.get("href", "")) if base_tag is not None else response.url
    if source.link_selector is not None:
        anchors: Iterable[etree._Element] = _anchors_in(root.cssselect(source.link_selector))
    else:
        anchors = root.iter("a")
    pattern = re.compile(source.link_pattern) if source.link_pattern is not None else None
    site = _site(response.url)
    for anchor in anchors:
        url = _absolute(base, anchor.get("href"))
        if url is not None and (pattern is None or pattern.search(url)) and _site(url).endswith(site):
            yield url


def _site(url: str) -> str:
    """Return the host without its www., so news.x.cn counts as part of www.x.cn's site."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _anchors_in(elements: Iterable[etree._Element]) -> Iterator[etree._Element]:
    """Yield each selected element that is a link, else the links inside it."""
    for element in elements:
        if element.tag == "a":
            yield element
        else:
            yield from element.iter("a")


def _html_tree(source: Source, text: str) -> lxml.html.HtmlElement:
    """Return the document tree of a list page."""
    # lxml refuses str input that declares a byte encoding; the text is already decoded.
    text = _XML_DECLARATION.sub("", text)
    parser = lxml.html.HTMLParser(recover=True, remove_comments=True, no_network=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DiscoverError(source, f"{source.url} is not an HTML page ({exc})") from exc


def _folder_files(source: Source) -> list[str]:
    """Return ``file://`` URLs of the folder's pages and text dumps, sorted by name."""
    folder = Path(source.url).expanduser()
    if not folder.is_dir():
        raise DiscoverError(source, f"{folder} is not a folder")
    files = sorted(
        path
        for path in folder.iterdir()
        # Dot-files are editor backups and OS metadata, not saved articles.
        if path.suffix.lower() in _FILE_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )
    return [path.resolve().as_uri() for path in files]
