"""One door in for a saved page or a text dump: bytes or text in, `Article` out."""

from __future__ import annotations

import re
from datetime import tzinfo

from ingest._article import Article
from ingest._decode import decode_html
from ingest._fields import SHANGHAI
from ingest._html import extract_html
from ingest._textdump import parse_text_dump
from ingest.errors import ParseError, TooLargeError

__all__ = ["MAX_BYTES", "looks_like_html", "parse"]

# News pages are rarely over 2 MB; anything past this is not an article we can use.
MAX_BYTES = 20 * 1024 * 1024
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|div|p|title)[\s>/]", re.IGNORECASE)


def looks_like_html(head: bytes) -> bool:
    """Tell an HTML page from a text dump by its first kilobytes."""
    return bool(_HTML.search(head[:4096]))


def parse(data: bytes | str, *, url: str | None = None, encoding: str | None = None, tz: tzinfo = SHANGHAI) -> Article:
    """Return the article in an HTML page or a text dump (it decides which).

    `encoding` is the charset the server declared (or a source's override) for bytes; dates the
    page prints without an offset are read in `tz`.

    Raises:
        TooLargeError: over `MAX_BYTES`.
        DecodeError: bytes in no encoding we can tell.
        ParseError: no markup, empty or binary input.
        NotAnArticle: no article body (an index, a menu, site furniture).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise TooLargeError(f"input is {len(raw) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
    if not raw.strip():
        raise ParseError("input is empty")
    text = data if isinstance(data, str) else decode_html(raw, declared=encoding)
    if "\x00" in text:
        raise ParseError("input holds NUL characters: it is binary, not a page or text")
    if looks_like_html(raw):
        return extract_html(text, url=url, tz=tz)
    return parse_text_dump(text, url=url, tz=tz)
