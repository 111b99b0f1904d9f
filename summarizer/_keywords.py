"""Keywords: the article's words weighed by frequency here against frequency in Chinese at large."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable

from summarizer._stopwords import GENERIC
from summarizer._tokens import information

__all__ = ["find_keywords"]


def find_keywords(words: Iterable[str], title_words: Iterable[str], top: int = 8) -> list[str]:
    """Return the top words by TF-IDF, with jieba's dictionary frequencies standing in for IDF."""
    counts = Counter(words)
    title = set(title_words)
    scored = []
    for word, tf in counts.items():
        weight = tf * information(word)
        if word in title:
            weight *= 1.5
        if word in GENERIC:
            weight *= 0.3
        scored.append((weight, word))
    # The top few of some 300 words: a heap, not a sort of them all (the same order, ties by word).
    return [w for _, w in heapq.nsmallest(top, scored, key=lambda x: (-x[0], x[1]))]
