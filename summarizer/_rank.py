"""Rank sentences: TextRank over BM25 similarity, plus position, title and cue features, then MMR.

The graph score says which sentences the rest of the article agrees with; news puts its point
first, so position weighs heavily; sentences sharing the title's words and those a frame like
会议强调 introduces are what editors keep. MMR then orders the sentences so that each one adds
something the ones before it did not say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Weights", "rank"]

_CUE = re.compile(r"^[^，,。]{0,20}?(?:强调|指出|要求|号召|部署|提出)[，,：:]|^(?:总之|总的来看|据悉|据了解)")
_DIRECTIVE = re.compile(r"^(?:要|必须|务必)|[，,](?:要|必须)")
# Lines that are furniture, not news: credits, prompts, sign-offs.
_FURNITURE = re.compile(
    r"^[(（]?(?:记者|通讯员|编辑|责任编辑|责编|来源|原标题|图[:：]|摄影|校对|审核)|点击|扫码|关注我们|（完）|\(完\)"
)
_SHORT = 10
# Procedure, not news: who chaired or attended. A report's point is what was decided.
_PROCEDURAL = re.compile(r"(?:主持|出席|列席|参加)(?:会议|全会|开幕式)?[。.]?$")


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each feature counts (tuned on the NLPCC dev set with bench/summarize.py)."""

    graph: float = 2.0
    position: float = 1.6
    title: float = 0.8
    cue: float = 0.25
    mmr: float = 0.5  # share of relevance against novelty in the MMR order
    k1: float = 1.5
    b: float = 0.75
    damping: float = 0.85


def _term_matrix(words: Sequence[Sequence[str]]) -> np.ndarray:
    """Return tf[i, t]: how often term t occurs in sentence i."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, ws in enumerate(words):
        for w in ws:
            rows.append(i)
            cols.append(vocab.setdefault(w, len(vocab)))
    tf = np.zeros((len(words), max(len(vocab), 1)))
    np.add.at(tf, (rows, cols), 1.0)
    return tf


def _bm25_matrix(shared: np.ndarray, df: np.ndarray, lengths: np.ndarray, k1: float, b: float) -> np.ndarray:
    """Return S[i, j]: the BM25 score of sentence j for sentence i's words as the query.

    `shared` holds only the terms found in two or more sentences: the others add nothing off
    the diagonal, and dropping them makes the matrices several times smaller.
    """
    n = shared.shape[0]
    idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
    norm = k1 * (1 - b + b * lengths / (lengths.mean() or 1.0))
    weight = shared * (k1 + 1) / (shared + norm[:, None]) * idf  # doc-term BM25 weights
    sim = (shared > 0).astype(float) @ weight.T
    np.fill_diagonal(sim, 0.0)
    return sim


def _cosine(shared: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Return the cosine similarity of sentences' word sets (`sizes`: distinct words of each)."""
    present = (shared > 0).astype(float)
    norms = np.sqrt(np.maximum(sizes, 1))
    cos = present @ present.T / np.outer(norms, norms)
    np.fill_diagonal(cos, 0.0)
    return cos


def _pagerank(sim: np.ndarray, damping: float, iterations: int = 40) -> np.ndarray:
    n = sim.shape[0]
    out = sim.sum(axis=1, keepdims=True)
    # A sentence sharing no word with any other links to all: it has no opinion.
    trans = np.where(out > 0, sim / np.where(out > 0, out, 1.0), 1.0 / n)
    score = np.full(n, 1.0 / n)
    for _ in range(iterations):
        new = (1 - damping) / n + damping * (trans.T @ score)
        if np.abs(new - score).sum() < 1e-6:
            return new
        score = new
    return score


def _normalise(v: np.ndarray) -> np.ndarray:
    top = v.max() if v.size else 0.0
    return v / top if top > 0 else v


def rank(
    texts: Sequence[str],
    words: Sequence[Sequence[str]],
    paragraph_starts: Sequence[bool],
    title_words: Sequence[str],
    weights: Weights = Weights(),
) -> list[tuple[int, float]]:
    """Return (sentence index, score) for every sentence, best first, in MMR order."""
    n = len(texts)
    if n == 0:
        return []
    tf = _term_matrix(words)
    df = (tf > 0).sum(axis=0)
    shared = tf[:, df >= 2]
    bm25 = _bm25_matrix(shared, df[df >= 2], tf.sum(axis=1), weights.k1, weights.b)
    graph = _normalise(_pagerank(bm25, weights.damping))
    index = np.arange(n)
    position = 1.0 / np.sqrt(1.0 + index) + 0.15 * np.asarray(paragraph_starts, dtype=float)
    title = set(title_words)
    overlap = np.array([len(title & set(ws)) / len(title) if title else 0.0 for ws in words])
    cue = np.array([1.0 if _CUE.search(t) else 0.5 if _DIRECTIVE.search(t) else 0.0 for t in texts])
    score = weights.graph * graph + weights.position * position + weights.title * overlap + weights.cue * cue
    lengths = np.array([len(t) for t in texts])
    score = np.where(lengths < _SHORT, score * lengths / _SHORT, score)
    furniture = np.array([bool(_FURNITURE.search(t)) for t in texts])
    score = np.where(furniture, score * 0.1, score)
    procedural = np.array([bool(_PROCEDURAL.search(t)) for t in texts])
    score = np.where(procedural, score * 0.2, score)
    score = score / (score.max() or 1.0)

    # MMR: relevance against the most similar sentence already chosen.
    cos = _cosine(shared, (tf > 0).sum(axis=1))
    gain = weights.mmr * score
    left = np.ones(n, dtype=bool)
    redundancy = np.zeros(n)
    chosen: list[int] = []
    for _ in range(n):
        best = int(np.argmax(np.where(left, gain - (1 - weights.mmr) * redundancy, -np.inf)))
        chosen.append(best)
        left[best] = False
        redundancy = np.maximum(redundancy, cos[best])
    return [(i, float(score[i])) for i in chosen]
