"""Character-level ROUGE for Chinese text, and the extract-to-budget protocol of the benchmarks.

The unit is the character. Before anything is compared or counted, whitespace, punctuation
and symbols (Unicode categories Z*, P*, S*) are dropped: this is the protocol behind the peer
table in the corpus README (it reproduces its Lead row to the hundredth: 29.71/15.58/21.72).

* ROUGE-N (N = 1, 2) is an F1 over n-gram *types* by default (each distinct n-gram counted
  once, as the widely used ``rouge`` / ``rouge-chinese`` packages do, and as the README table
  was made); ``clipped=True`` gives the ROUGE-1.5.5 definition with clipped multiset counts
  (about 2 points lower on R-1 for the same extract).
* ROUGE-L is the F1 of the longest common subsequence (beta = 1).

Scores are in [0, 1]; the scripts multiply by 100 for display.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Rouge",
    "extract",
    "lcs_length",
    "locate",
    "ngram_f1",
    "normalize",
    "rouge",
    "split_clauses",
]

_DROPPED_CATEGORIES = frozenset("ZPSC")  # separators, punctuation, symbols, controls
_CLAUSE = re.compile(r"[^。！？!?；;…\n]+[。！？!?；;…]*")


def normalize(text: str) -> str:
    """Return the characters of ``text`` that ROUGE compares (no spaces, punctuation, symbols)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in _DROPPED_CATEGORIES)


def split_clauses(text: str) -> list[str]:
    """Split ``text`` into the units the peer table uses for Lead, Oracle and sumy.

    A unit ends at 。！？!?；; or … or at a line break: the delimiter set of textrank4zh,
    which the README harness also fed to sumy. A closing quote after an end mark starts the
    next unit, as it does there (it makes no difference to ROUGE, which ignores punctuation).
    """
    return [unit.strip() for unit in _CLAUSE.findall(text) if unit.strip()]


def _f1(overlap: int, n_candidate: int, n_reference: int) -> float:
    if overlap == 0 or n_candidate == 0 or n_reference == 0:
        return 0.0
    precision = overlap / n_candidate
    recall = overlap / n_reference
    return 2 * precision * recall / (precision + recall)


def ngram_f1(candidate: str, reference: str, n: int, *, clipped: bool = False) -> float:
    """Return ROUGE-N F1 of two already-normalised strings (n-gram types unless ``clipped``)."""
    cand = Counter(candidate[i : i + n] for i in range(len(candidate) - n + 1))
    ref = Counter(reference[i : i + n] for i in range(len(reference) - n + 1))
    if clipped:
        return _f1(sum((cand & ref).values()), sum(cand.values()), sum(ref.values()))
    return _f1(len(cand.keys() & ref.keys()), len(cand), len(ref))


def lcs_length(a: str, b: str) -> int:
    """Return the length of the longest common subsequence of ``a`` and ``b`` (O(len a·len b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            if ch == other:
                current.append(previous[j - 1] + 1)
            else:
                current.append(max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Rouge:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of one candidate against one reference."""

    r1: float
    r2: float
    rl: float


def rouge(candidate: str, reference: str, *, clipped: bool = False) -> Rouge:
    """Return character ROUGE-1/2/L F1 of ``candidate`` against ``reference``."""
    cand, ref = normalize(candidate), normalize(reference)
    return Rouge(
        r1=ngram_f1(cand, ref, 1, clipped=clipped),
        r2=ngram_f1(cand, ref, 2, clipped=clipped),
        rl=_f1(lcs_length(cand, ref), len(cand), len(ref)),
    )


def locate(sentences: Sequence[str], text: str) -> list[int | None]:
    """Return where each sentence starts in ``text`` (in normalised characters), or None.

    A cursor walks through the text: the next sentence placed is the one found earliest at
    or after the cursor (the longer one on a tie), and the cursor moves past it. So a short
    sentence that also occurs inside an earlier, longer one is placed where it really is,
    and equal sentences get successive occurrences. A sentence that only occurs before the
    cursor (the system reordered or repeated text) gets its first occurrence; one that does
    not occur at all (after normalisation) gets None.
    """
    flat = normalize(text)
    keys = [normalize(sentence) for sentence in sentences]
    where: list[int | None] = [None] * len(keys)
    pending = {i for i, key in enumerate(keys) if key}
    for i, key in enumerate(keys):
        if not key:
            where[i] = len(flat)  # nothing to place: harmless at the end
    cursor = 0
    found = {i: flat.find(keys[i]) for i in pending}
    while pending:
        for i in pending:
            if 0 <= found[i] < cursor:
                found[i] = flat.find(keys[i], cursor)
        ahead = [i for i in pending if found[i] >= 0]
        if not ahead:
            break
        best = min(ahead, key=lambda i: (found[i], -len(keys[i]), i))
        where[best] = found[best]
        cursor = found[best] + len(keys[best])
        pending.discard(best)
    for i in pending:
        first = flat.find(keys[i])
        where[i] = first if first >= 0 else None
    return where


def extract(ranking: Iterable[str], text: str, budget: int) -> tuple[str, bool]:
    """Build a system's extract of ``budget`` normalised characters from its ranked sentences.

    Sentences are taken in rank order until their total normalised length reaches
    ``budget``, put back in document order, joined, and cut to exactly ``budget``
    characters. Returns the (normalised) extract and whether document order could be
    restored: when a chosen sentence is not found in ``text`` the rank order is kept.
    """
    ranked = list(ranking)
    chosen: list[int] = []
    total = 0
    for i, sentence in enumerate(ranked):
        if total >= budget:
            break
        length = len(normalize(sentence))
        if length:
            chosen.append(i)
            total += length
    where = locate(ranked, text)
    restored = all(where[i] is not None for i in chosen)
    if restored:
        chosen.sort(key=lambda i: (where[i], i))
    return normalize("".join(ranked[i] for i in chosen))[:budget], restored
