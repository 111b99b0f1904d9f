"""Turn news sources into `Article` values: decode, extract, parse text dumps.

    >>> from ingest import parse
    >>> article = parse(open("page.html", "rb").read(), url="https://…")
"""

from ingest._article import Article, Author, Contact, ContactKind
from ingest._decode import decode_html
from ingest._html import extract_html
from ingest._parse import MAX_BYTES, parse
from ingest._textdump import parse_text_dump
from ingest.errors import DecodeError, IngestError, ParseError, TooLargeError

__all__ = [
    "MAX_BYTES",
    "Article",
    "Author",
    "Contact",
    "ContactKind",
    "DecodeError",
    "IngestError",
    "ParseError",
    "TooLargeError",
    "decode_html",
    "extract_html",
    "parse",
    "parse_text_dump",
]
