"""The values the summariser returns."""

from __future__ import annotations

from collections.abc import Mapping
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        """Return the summary `to_dict` made, as stored: a field missing (older data) is empty."""
        facts = data.get("facts") or {}
        return cls(
            key_sentences=[str(s) for s in data.get("key_sentences") or []],
            directives=[
                Directive(head=d.get("head", ""), text=d["text"], cue=d.get("cue"), paragraph=d.get("paragraph", 0))
                for d in data.get("directives") or []
            ],
            keywords=[str(k) for k in data.get("keywords") or []],
            facts=Facts(
                date=facts.get("date"),
                meeting=facts.get("meeting"),
                people=list(facts.get("people") or []),
                documents=list(facts.get("documents") or []),
            ),
            ranking=[RankedSentence(text=r["text"], score=float(r["score"])) for r in data.get("ranking") or []],
            version=str(data.get("version", "")),
        )
