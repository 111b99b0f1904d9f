"""The summariser's entry point: text or article in, `Summary` out. Pure and deterministic."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np

from summarizer._dateline import clean_sentence
from summarizer._directives import find_directives, prescribes
from summarizer._facts import find_facts
from summarizer._features import Context, is_meeting_report, sentence_features
from summarizer._keywords import find_keywords
from summarizer._rank import Weights, graph, order, relevance
from summarizer._sentences import Sentence, split_paragraphs, split_text
from summarizer._summary import Directive, RankedSentence, Summary
from summarizer._tokens import content_words, words_by_sentence
from summarizer._weights import WEIGHTS

__all__ = ["VERSION", "Document", "Reading", "read", "summarize"]

# Bump when the output for the same input changes, so stored summaries get recomputed.
VERSION = "2.1.1"
DEFAULT_BUDGET = 200


class Document(Protocol):
    """Anything with a title and paragraphs (an `ingest.Article` is one)."""

    @property
    def title(self) -> str: ...

    @property
    def paragraphs(self) -> list[str]: ...


# Leftover budget is not filled with sentences under this share of the best one's probability.
_FILLER = 0.1
# A long report runs to some 30,000 characters and 800 sentences. Past these a text is a dump
# of a page, not an article, and ranking grows with the square of the sentences: only the
# opening is read.
_MAX_CHARS = 100_000
_MAX_SENTENCES = 1_000
_ENDS = "。！？!?…”』」"
_HEADLINE = 60


@dataclass(frozen=True, slots=True)
class Reading:
    """An article as the ranker reads it: the sentences it may show, and what it knows of them."""

    title: str
    paragraphs: list[str]  # as stored (only a very long text is cut)
    sentences: list[Sentence]  # as shown: bylines cut off, credits and headline lines left out
    words: list[list[str]]
    title_words: list[str]
    directives: list[Directive]
    features: np.ndarray  # one row per sentence, columns as `FEATURES` names them
    cosine: np.ndarray
    published: date | None


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


def _squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _shown(sentences: list[Sentence], title: str) -> list[Sentence]:
    """Return the sentences a reader may be shown, renumbered.

    A line with no end mark that the title holds is the headline printed above the text
    (习近平在…时强调 / 锚定…目标): the reader has it already.
    """
    heading = _squeeze(title)
    out: list[Sentence] = []
    for s in sentences:
        text = clean_sentence(s.text)
        if text is None:
            continue
        if heading and text[-1] not in _ENDS and len(text) <= _HEADLINE and _squeeze(text) in heading:
            continue
        out.append(Sentence(text, s.paragraph, len(out)))
    return out


def _as_shown(paragraphs: list[str], shown: list[Sentence]) -> list[str]:
    """Return the paragraphs with what is not shown cut out (bylines, credits, headline lines).

    The spaces between two shown sentences stay, so that each piece is still the paragraph's text.
    """
    out = [""] * len(paragraphs)
    ends = [0] * len(paragraphs)
    for s in shown:
        raw = paragraphs[s.paragraph]
        at = raw.find(s.text, ends[s.paragraph])
        gap = raw[ends[s.paragraph] : at]
        out[s.paragraph] += (gap if out[s.paragraph] and not gap.strip() else "") + s.text
        ends[s.paragraph] = at + len(s.text)
    return out


def _holding(directives: list[Directive], sentences: list[Sentence]) -> set[int]:
    """Return the indices of the sentences that hold a directive."""
    by_paragraph: dict[int, list[Sentence]] = {}
    for s in sentences:
        by_paragraph.setdefault(s.paragraph, []).append(s)
    held: set[int] = set()
    for d in directives:
        for s in by_paragraph.get(d.paragraph, []):
            if d.text in s.text:
                held.add(s.index)
                break
    return held


def read(text_or_article: str | Document, *, title: str | None = None) -> Reading:
    """Read a text or an article into the sentences, words, directives and features ranking needs."""
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
    shown = _shown(sentences, title)
    texts = [s.text for s in shown]
    words = words_by_sentence(paragraphs, shown)
    title_words = content_words(title) if title else []
    # Directives are read from the text as shown: a byline is no part of them.
    as_shown = _as_shown(paragraphs, shown)
    directives = find_directives(as_shown) if prescribes(title, as_shown) else []
    sentence_graph = graph(words)
    context = Context(title_words, _holding(directives, shown), is_meeting_report(title, texts[0] if texts else ""))
    starts = [i == 0 or s.paragraph != shown[i - 1].paragraph for i, s in enumerate(shown)]
    features = sentence_features(texts, words, starts, [s.paragraph for s in shown], sentence_graph.centrality, context)
    return Reading(title, paragraphs, shown, words, title_words, directives, features, sentence_graph.cosine, published)


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


def summarize(
    text_or_article: str | Document,
    *,
    title: str | None = None,
    budget: int = DEFAULT_BUDGET,
    weights: Weights = WEIGHTS,
) -> Summary:
    """Summarise a text or an article: key sentences within `budget` characters, directives,
    keywords and facts."""
    if budget < 1:
        raise ValueError("budget must be a positive number of characters")
    reading = read(text_or_article, title=title)
    texts = [s.text for s in reading.sentences]
    scores = relevance(reading.features, weights)
    ranking = [(i, float(scores[i])) for i in order(scores, reading.cosine, weights.mmr)]

    picked = _fit(texts, ranking, budget)
    key = [texts[i] for i in picked]
    if not picked and ranking:
        # A single sentence longer than the budget: cut it rather than say nothing.
        key = [texts[ranking[0][0]][: budget - 1] + "…"]

    return Summary(
        key_sentences=key,
        directives=reading.directives,
        keywords=find_keywords((w for ws in reading.words for w in ws), reading.title_words),
        facts=find_facts(reading.title, reading.paragraphs, reading.published),
        ranking=[RankedSentence(texts[i], round(score, 4)) for i, score in ranking],
        version=VERSION,
    )
