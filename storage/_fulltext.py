"""Word segmentation for full-text search: the same cut for what is indexed and what is asked."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from summarizer import segmenter

__all__ = ["index_text", "query_words"]


def _words(text: str) -> list[str]:
    # Search-engine mode also emits the known words inside a long one (综合治理 → 综合, 治理,
    # 综合治理), so 流域治理 finds 流域综合治理. No HMM: unknown words split into the same
    # dictionary pieces wherever they occur, in an article or in a query. The summariser's
    # segmenter cuts both: a summariser version that changes it re-indexes (`resummarize_all`).
    text = unicodedata.normalize("NFKC", text).lower()
    return [w for w in segmenter().cut_for_search(text) if any(c.isalnum() for c in w)]


def index_text(title: str, paragraphs: Iterable[str]) -> str:
    """Return the title and body as space-joined words, ready for FTS5 or to_tsvector('simple')."""
    return " ".join(_words("\n".join([title, *paragraphs])))


def query_words(words: str) -> list[str]:
    """Return the distinct words of a search query, segmented as articles are indexed."""
    found = list(dict.fromkeys(_words(words)))
    # A long word adds nothing to the AND of the pieces also listed for it (综合治理 after 综合,
    # 治理), and would miss an article where jieba cut those characters differently.
    return [w for w in found if not any(piece != w and piece in w for piece in found)]
