"""Match predicted directives to gold ones, as the labelling guide in the corpus README says.

Two directive texts match when their character F1 is at least 0.8, after Unicode NFKC
normalisation with punctuation and whitespace dropped. Matching is one-to-one and greedy:
the pair with the best F1 is taken first. Heads are compared exactly, after NFKC.

Everything here works on plain strings, so tests can use it without the corpus.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "THRESHOLD",
    "Match",
    "MatchCounts",
    "char_f1",
    "char_key",
    "count_matches",
    "match_texts",
    "same_head",
]

THRESHOLD = 0.8


def char_key(text: str) -> str:
    """Return ``text`` in NFKC with punctuation and whitespace dropped."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PZ")


def char_f1(a: str, b: str) -> float:
    """Return the bag-of-characters F1 of two texts, compared as ``char_key`` keys."""
    ca, cb = Counter(char_key(a)), Counter(char_key(b))
    overlap = sum((ca & cb).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(ca.values())
    recall = overlap / sum(cb.values())
    return 2 * precision * recall / (precision + recall)


def same_head(predicted: str, gold: str) -> bool:
    """Return whether two heads are equal after NFKC (surrounding whitespace ignored)."""
    return unicodedata.normalize("NFKC", predicted).strip() == unicodedata.normalize("NFKC", gold).strip()


@dataclass(frozen=True, slots=True)
class Match:
    """A predicted text matched to a gold text, by their indices."""

    predicted: int
    gold: int
    f1: float


def match_texts(predicted: Sequence[str], gold: Sequence[str], threshold: float = THRESHOLD) -> list[Match]:
    """Match predicted texts to gold texts one-to-one, greedily by best F1 (≥ ``threshold``).

    Ties are broken by position (earlier gold first, then earlier prediction), so the
    result is deterministic. Returns the matches sorted by gold index.
    """
    pairs = [
        (f1, g, p)
        for p, ptext in enumerate(predicted)
        for g, gtext in enumerate(gold)
        if (f1 := char_f1(ptext, gtext)) >= threshold
    ]
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    matches: list[Match] = []
    for f1, g, p in pairs:
        if p in used_p or g in used_g:
            continue
        used_p.add(p)
        used_g.add(g)
        matches.append(Match(p, g, f1))
    return sorted(matches, key=lambda m: m.gold)


@dataclass(slots=True)
class MatchCounts:
    """Counts for micro precision, recall, F1 and head accuracy; they add up across articles."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0
    heads: int = 0  # matched pairs whose heads agree

    def __iadd__(self, other: MatchCounts) -> MatchCounts:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched += other.matched
        self.heads += other.heads
        return self

    @property
    def precision(self) -> float:
        """Matched / predicted (1.0 when nothing was predicted)."""
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Matched / gold (1.0 when there is no gold)."""
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def head_accuracy(self) -> float | None:
        """Share of matched pairs with the same head (None when nothing matched)."""
        return self.heads / self.matched if self.matched else None


def count_matches(
    predicted: Sequence[tuple[str, str]], gold: Sequence[tuple[str, str]], threshold: float = THRESHOLD
) -> tuple[MatchCounts, list[Match]]:
    """Match (text, head) pairs on their texts; return the counts and the matches."""
    matches = match_texts([text for text, _ in predicted], [text for text, _ in gold], threshold)
    heads = sum(same_head(predicted[m.predicted][1], gold[m.gold][1]) for m in matches)
    return MatchCounts(len(gold), len(predicted), len(matches), heads), matches
