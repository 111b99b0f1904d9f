"""Where articles come from: a `Source` names a feed, a list page, a single page or a folder.

    >>> Source(name="清河新闻网", kind=SourceKind.LISTPAGE, url="https://qh.example.cn/news/",
    ...        link_pattern=r"/news/\\d{4}/\\d+\\.html$")

Each value is checked when built, so a bad configuration fails at start-up with a message that
names the source, not at the first fetch.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import GenericTranslator, SelectorError

from ingest._article import Contact

__all__ = ["Source", "SourceKind"]


class SourceKind(StrEnum):
    """How a source lists its articles."""

    RSS = "rss"  # an RSS or Atom feed whose entries link to the articles
    LISTPAGE = "listpage"  # an HTML page whose links (chosen by pattern or selector) are articles
    PAGE = "page"  # one article page
    DIR = "dir"  # a local folder of saved pages and text dumps


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """One place to read articles from, and how to read it."""

    name: str
    kind: SourceKind
    url: str  # an http(s) URL, or a folder path for `SourceKind.DIR`
    interval: timedelta = timedelta(minutes=30)
    link_pattern: str | None = None  # regex searched in each absolute link URL (listpage)
    link_selector: str | None = None  # CSS selector of the links or their containers (listpage)
    encoding: str | None = None  # overrides the charset the site declares
    contacts: tuple[Contact, ...] | None = None  # overrides the reporting contacts found in pages
    timezone: str = "Asia/Shanghai"  # for dates the pages print without an offset

    def __post_init__(self) -> None:
        """Check every field and raise ValueError naming the source and the field."""
        if not self.name.strip():
            raise ValueError("source name is empty")
        try:
            object.__setattr__(self, "kind", SourceKind(self.kind))
        except ValueError:
            kinds = ", ".join(SourceKind)
            raise ValueError(f"source {self.name!r}: kind {self.kind!r} is not one of {kinds}") from None
        self._check_url()
        if self.interval <= timedelta(0):
            raise ValueError(f"source {self.name!r}: interval must be positive, got {self.interval}")
        self._check_links()
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"source {self.name!r}: unknown encoding {self.encoding!r}") from None
        if self.contacts is not None:
            # Configuration loaders hand over lists; a frozen value keeps a tuple.
            object.__setattr__(self, "contacts", tuple(self.contacts))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"source {self.name!r}: unknown timezone {self.timezone!r}") from None

    def _check_url(self) -> None:
        """Require a folder path for a dir source and an absolute http(s) URL otherwise."""
        if not self.url.strip():
            raise ValueError(f"source {self.name!r}: url is empty")
        if self.kind is SourceKind.DIR:
            return
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"source {self.name!r}: url {self.url!r} is not an absolute http(s) URL")

    def _check_links(self) -> None:
        """Require exactly one valid link rule for a list page and none for other kinds."""
        rules = [rule for rule in (self.link_pattern, self.link_selector) if rule is not None]
        if self.kind is not SourceKind.LISTPAGE:
            if rules:
                raise ValueError(f"source {self.name!r}: link_pattern and link_selector apply to listpage sources only")
            return
        if len(rules) != 1:
            raise ValueError(f"source {self.name!r}: a listpage source needs one of link_pattern or link_selector")
        if self.link_pattern is not None:
            try:
                re.compile(self.link_pattern)
            except re.error as exc:
                raise ValueError(f"source {self.name!r}: link_pattern {self.link_pattern!r}: {exc}") from None
        if self.link_selector is not None:
            try:
                GenericTranslator().css_to_xpath(self.link_selector)
            except SelectorError as exc:
                raise ValueError(f"source {self.name!r}: link_selector {self.link_selector!r}: {exc}") from None
