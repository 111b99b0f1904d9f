"""A stored article as the renderers read it (`bot.render.StoredArticle`), without a database: for tests and `bench/shown.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Stored:
    """The fields of a stored article the messages show."""

    id: int
    url: str
    title: str
    paragraphs: list[str]
    source_name: str | None = "市政府网"
    published_at: datetime | None = None
    contacts: list[dict[str, str | None]] = field(default_factory=list)
    configured: str = "示例"  # the configured source's name

    @property
    def outlet(self) -> str:
        """The page's outlet, else the configured source's name, as storage gives it."""
        return self.source_name or self.configured
