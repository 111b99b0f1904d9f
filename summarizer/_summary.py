"""The values the summariser returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Directive", "Facts", "RankedSentence", "Summary"]


@dataclass(frozen=True, slots=True)
class Directive:
    """A sentence or enumerated item that prescribes action (要守底线，… → head 守底线)."""

    head: str
    text: str
    cue: str | None
    paragraph: int


@dataclass(frozen=True, slots=True)
class Facts:
    """Key facts of a report: event date as written, meeting, people with titles, documents."""

    date: str | None = None
    meeting: str | None = None
    people: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RankedSentence:
    """A sentence and the score that ranked it."""

    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Summary:
    """What the summariser makes of one article."""

    key_sentences: list[str]
    directives: list[Directive]
    keywords: list[str]
    facts: Facts
    ranking: list[RankedSentence]
    version: str

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        return {
            "key_sentences": list(self.key_sentences),
            "directives": [asdict(d) for d in self.directives],
            "keywords": list(self.keywords),
            "facts": asdict(self.facts),
            "version": self.version,
            "ranking": [asdict(r) for r in self.ranking],
        }
