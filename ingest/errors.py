"""Errors of the ingest package.

    IngestError
    ├── DecodeError     bytes that are not text in any encoding we can tell
    ├── ParseError      text that holds no article (no title, no body)
    └── TooLargeError   input over the size we accept
"""

from __future__ import annotations

__all__ = ["DecodeError", "IngestError", "ParseError", "TooLargeError"]


class IngestError(Exception):
    """Root of everything ingest raises on bad input."""


class DecodeError(IngestError, ValueError):
    """The bytes are binary or in no encoding we can decode."""


class ParseError(IngestError, ValueError):
    """The text holds no article."""


class TooLargeError(IngestError, ValueError):
    """The input is larger than we accept."""
