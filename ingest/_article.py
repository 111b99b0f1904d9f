"""The `Article` value every source turns into: a text dump, an HTML page or a feed entry."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Article", "Author", "Contact", "ContactKind"]


class ContactKind(StrEnum):
    """What a reporting contact lets a reader do."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    URL = "url"
    ENTRY = "entry"  # a named link or button whose target the text does not show


@dataclass(frozen=True, slots=True)
class Author:
    """A byline entry: 记者蒋斌 → Author(role="记者", name="蒋斌")."""

    role: str
    name: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A reporting channel the site prints (举报电话, 短信通道, 举报入口)."""

    label: str
    value: str | None
    kind: ContactKind

    @classmethod
    def of(cls, label: str, value: str | None) -> Contact:
        """Return a contact whose kind is told from its value (and 短信 in the label)."""
        if value is None:
            kind = ContactKind.ENTRY
        elif "@" in value:
            kind = ContactKind.EMAIL
        elif value.startswith(("http://", "https://")):
            kind = ContactKind.URL
        elif "短信" in label:
            kind = ContactKind.SMS
        else:
            kind = ContactKind.PHONE
        return cls(label, value, kind)


@dataclass(slots=True)
class Article:
    """One news article, as extracted from its source."""

    title: str
    paragraphs: list[str]
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    authors: list[Author] = field(default_factory=list)
    editor: str | None = None
    contacts: list[Contact] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the body as one string, paragraphs separated by newlines."""
        return "\n".join(self.paragraphs)

    @property
    def content_hash(self) -> str:
        """Return a hash of the normalised title and body, for exact-duplicate detection."""
        body = unicodedata.normalize("NFKC", self.title + "\n" + self.text)
        return hashlib.sha256("".join(body.split()).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Return the article as JSON-ready data."""
        return {
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "authors": [asdict(a) for a in self.authors],
            "editor": self.editor,
            "paragraphs": list(self.paragraphs),
            "contacts": [{"label": c.label, "value": c.value, "kind": str(c.kind)} for c in self.contacts],
            "images": list(self.images),
            "content_hash": self.content_hash,
        }
