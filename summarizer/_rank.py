"""Rank sentences: learned weights over the sentence features, then MMR for variety.

The graph score (TextRank over BM25 similarity) says which sentences the rest of the article
agrees with; it is one feature among those in `summarizer/_features.py`. A linear model turns
the features into the probability that an editor keeps the sentence; MMR then orders the
sentences so that each one adds something the ones before it did not say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from summarizer._features import FEATURES

__all__ = ["Graph", "Weights", "graph", "order", "relevance"]

_K1 = 1.5
_B = 0.75
_DAMPING = 0.85


@dataclass(frozen=True, slots=True)
class Weights:
    """A linear model over the features, and how much MMR weighs relevance against novelty."""

    intercept: float
    coefficients: Mapping[str, float]
    mmr: float = 0.7

    def vector(self) -> np.ndarray:
        """Return the coefficients in the order of `FEATURES` (a missing one counts 0)."""
        return np.array([self.coefficients.get(name, 0.0) for name in FEATURES])


@dataclass(frozen=True, slots=True)
class Graph:
    """The sentence graph: each sentence's centrality, and how alike two sentences are."""

    centrality: np.ndarray  # the best sentence 1
    cosine: np.ndarray  # n × n, the diagonal 0


def _term_matrix(words: Sequence[Sequence[str]]) -> np.ndarray:
    """Return tf[i, t]: how often term t occurs in sentence i."""
    vocab: dict[str, int] = {}
    cols = [vocab.setdefault(w, len(vocab)) for ws in words for w in ws]
    rows = np.repeat(np.arange(len(words)), [len(ws) for ws in words])
    size = max(len(vocab), 1)
    # bincount over flat cells: np.add.at, its unbuffered equivalent, is several times slower.
    counts = np.bincount(rows * size + np.array(cols, dtype=np.intp), minlength=len(words) * size)
    return counts.reshape(len(words), size).astype(float)


def _bm25_matrix(shared: np.ndarray, df: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return S[i, j]: the BM25 score of sentence j for sentence i's words as the query.

    `shared` holds only the terms found in two or more sentences: the others add nothing off
    the diagonal, and dropping them makes the matrices several times smaller.
    """
    n = shared.shape[0]
    idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0)
    norm = _K1 * (1 - _B + _B * lengths / (lengths.mean() or 1.0))
    weight = shared * (_K1 + 1) / (shared + norm[:, None]) * idf  # doc-term BM25 weights
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


def _pagerank(sim: np.ndarray, iterations: int = 40) -> np.ndarray:
    n = sim.shape[0]
    out = sim.sum(axis=1, keepdims=True)
    # A sentence sharing no word with any other links to all: it has no opinion.
    trans = np.where(out > 0, sim / np.where(out > 0, out, 1.0), 1.0 / n)
    score = np.full(n, 1.0 / n)
    for _ in range(iterations):
        new = (1 - _DAMPING) / n + _DAMPING * (trans.T @ score)
        if np.abs(new - score).sum() < 1e-6:
            return new
        score = new
    return score


def graph(words: Sequence[Sequence[str]]) -> Graph:
    """Return the sentence graph of sentences given as their content words."""
    n = len(words)
    if n == 0:
        return Graph(np.zeros(0), np.zeros((0, 0)))
    tf = _term_matrix(words)
    df = (tf > 0).sum(axis=0)
    shared = tf[:, df >= 2]
    centrality = _pagerank(_bm25_matrix(shared, df[df >= 2], tf.sum(axis=1)))
    top = centrality.max()
    return Graph(centrality / top if top > 0 else centrality, _cosine(shared, (tf > 0).sum(axis=1)))


def relevance(features: np.ndarray, weights: Weights) -> np.ndarray:
    """Return each sentence's probability of being kept, by the linear model."""
    if features.size == 0:
        return np.zeros(features.shape[0])
    logit = features @ weights.vector() + weights.intercept
    return 1.0 / (1.0 + np.exp(-logit))


def order(scores: np.ndarray, cosine: np.ndarray, mmr: float) -> list[int]:
    """Return the sentence indices best first, in MMR order: relevance against redundancy."""
    n = len(scores)
    gain = mmr * scores
    # Scaled once: (1 − mmr) × the largest similarity is, bit for bit, the largest scaled similarity.
    similar = (1 - mmr) * cosine
    penalty = np.zeros(n)
    chosen: list[int] = []
    for _ in range(n):
        best = int(np.argmax(gain - penalty))
        chosen.append(best)
        gain[best] = -np.inf  # taken
        np.maximum(penalty, similar[best], out=penalty)
    return chosen
