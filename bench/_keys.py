"""Key sentences against an editor's: the match recall the government-news benchmarks report.

For each labelled article the summariser gets a budget of the labelled key sentences' total
length (at least ``MIN_BUDGET`` characters). A predicted key sentence matches a labelled one when
their character F1 is at least 0.8 (``bench/_match.py``, the rule for directives), one-to-one;
recall is the share of labelled key sentences matched, over all articles (micro).

Lead is the article's first sentences, in order, while they fit the same budget (at least one),
split as the summariser splits them. "Lead, bylines cut" is the same with the bylines and
datelines cut off first (``summarizer.clean_sentence``), the stronger baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench._match import match_texts
from summarizer import clean_sentence, split_paragraphs, split_sentences

__all__ = ["MIN_BUDGET", "KeyCounts", "budget_for", "lead", "matched"]

MIN_BUDGET = 60


def budget_for(gold: Sequence[str]) -> int:
    """Return the budget for an article: its labelled key sentences' total length."""
    return max(MIN_BUDGET, sum(len(k) for k in gold))


def lead(text: str, budget: int, *, cut_bylines: bool = False) -> list[str]:
    """Return the first sentences of a text while they fit the budget (at least one)."""
    out: list[str] = []
    used = 0
    for paragraph in split_paragraphs(text):
        for sentence in split_sentences(paragraph):
            shown = clean_sentence(sentence) if cut_bylines else sentence
            if shown is None:
                continue
            if out and used + len(shown) > budget:
                return out
            out.append(shown)
            used += len(shown)
    return out


def matched(predicted: Sequence[str], gold: Sequence[str]) -> int:
    """Return how many labelled key sentences the predicted ones match, one-to-one."""
    return len(match_texts(predicted, gold))


@dataclass(slots=True)
class KeyCounts:
    """Labelled key sentences and how many a system matched; they add up across articles."""

    gold: int = 0
    matched: int = 0

    def add(self, predicted: Sequence[str], gold: Sequence[str]) -> None:
        """Count one article."""
        self.gold += len(gold)
        self.matched += matched(predicted, gold)

    @property
    def recall(self) -> float | None:
        """Matched / labelled (None when nothing is labelled)."""
        return self.matched / self.gold if self.gold else None
