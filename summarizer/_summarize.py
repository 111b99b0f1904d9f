"""The summariser's entry point: text or article in, `Summary` out. Pure and deterministic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from summarizer._directives import find_directives
from summarizer._facts import find_facts
from summarizer._keywords import find_keywords
from summarizer._rank import rank
from summarizer._sentences import split_paragraphs, split_text
from summarizer._summary import RankedSentence, Summary
from summarizer._tokens import content_words, words_by_sentence

__all__ = ["VERSION", "Document", "summarize"]

# Bump when the output for the same input changes, so stored summaries get recomputed.
VERSION = "1.1.1"
DEFAULT_BUDGET = 200


class Document(Protocol):
    """Anything with a title and paragraphs (an `ingest.Article` is one)."""

    @property
    def title(self) -> str: ...

    @property
    def paragraphs(self) -> list[str]: ...


# Leftover budget is not filled with sentences scoring under this share of the best one.
_FILLER = 0.25
# A long report runs to some 30,000 characters and 800 sentences. Past these a text is a dump
# of a page, not an article, and ranking grows with the square of the sentences: only the
# opening is read.
_MAX_CHARS = 100_000
_MAX_SENTENCES = 1_000


def _opening(paragraphs: list[str]) -> list[str]:
    """Return the paragraphs cut to their first `_MAX_CHARS` characters."""
    kept: list[str] = []
    left = _MAX_CHARS
    for paragraph in paragraphs:
        if left <= 0:
            break
        kept.append(paragraph[:left])
        left -= len(paragraph)
    return kept


def _fit(texts: list[str], ranking: list[tuple[int, float]], budget: int) -> list[int]:
    """Take sentences in rank order while they fit the budget; return them in document order."""
    picked: list[int] = []
    used = 0
    floor = ranking[0][1] * _FILLER if ranking else 0.0
    for i, score in ranking:
        if used + len(texts[i]) <= budget and score >= floor:
            picked.append(i)
            used += len(texts[i])
    return sorted(picked)


def summarize(text_or_article: str | Document, *, title: str | None = None, budget: int = DEFAULT_BUDGET) -> Summary:
    """Summarise a text or an article: key sentences within `budget` characters, directives,
    keywords and facts."""
    if budget < 1:
        raise ValueError("budget must be a positive number of characters")
    published: date | None = None
    if isinstance(text_or_article, str):
        paragraphs = split_paragraphs(text_or_article)
        title = title or ""
    else:
        paragraphs = [p.strip() for p in text_or_article.paragraphs if p.strip()]
        title = title or text_or_article.title
        when = getattr(text_or_article, "published_at", None)
        published = when.date() if isinstance(when, datetime) else None

    paragraphs = _opening(paragraphs)
    sentences = split_text(paragraphs)
    if len(sentences) > _MAX_SENTENCES:
        sentences = sentences[:_MAX_SENTENCES]
        paragraphs = paragraphs[: sentences[-1].paragraph + 1]
    texts = [s.text for s in sentences]
    words = words_by_sentence(paragraphs, sentences)
    title_words = content_words(title) if title else []
    starts = [i == 0 or s.paragraph != sentences[i - 1].paragraph for i, s in enumerate(sentences)]
    ranking = rank(texts, words, starts, title_words)

    picked = _fit(texts, ranking, budget)
    key = [texts[i] for i in picked]
    if not picked and ranking:
        # A single sentence longer than the budget: cut it rather than say nothing.
        key = [texts[ranking[0][0]][: budget - 1] + "…"]

    return Summary(
        key_sentences=key,
        directives=find_directives(paragraphs),
        keywords=find_keywords((w for ws in words for w in ws), title_words),
        facts=find_facts(title, paragraphs, published),
        ranking=[RankedSentence(texts[i], round(score, 4)) for i, score in ranking],
        version=VERSION,
    )
