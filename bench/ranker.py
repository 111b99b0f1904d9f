"""Learn the summariser's ranking weights and report them on data they never saw.

    .venv/bin/python bench/ranker.py ARTICLES.jsonl --labels A.jsonl --labels B.jsonl \\
        [--nlpcc NLPCC.jsonl] [--train A.jsonl ...] [--write summarizer/_weights.py]

The model is a logistic regression (scikit-learn, L2, ``C`` = 1) over the features of
``summarizer.FEATURES``, one row per sentence as the summariser shows it; a sentence is a
positive when it matches a labelled key sentence (character F1 ≥ 0.8). Labels files are the
government-news label sets (``id``, ``key_sentences``) joined to ``ARTICLES`` by ``id``.

Printed, every number out of sample:

* **Across label sets**: weights learned on each labels file, the key-sentence match recall
  (``bench/_keys.py``) on each other one, beside Lead and Lead with bylines cut.
* **NLPCC, 5-fold**: with ``--nlpcc``, weights learned on four fifths of the articles (a sentence
  is a positive when the greedy ROUGE oracle picks it) and scored on the fifth, character ROUGE
  as ``bench/summarize.py`` scores it; the mean of the held-out folds beside Lead.

``--write`` learns on the ``--train`` files (all labels files if none is named) and writes the
weights module the summariser ships; its docstring names the data it saw.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._keys import KeyCounts, budget_for, lead  # noqa: E402
from bench._match import match_texts  # noqa: E402
from bench._rouge import Rouge, extract, normalize, rouge  # noqa: E402
from bench.summarize import oracle_extract  # noqa: E402
from summarizer import FEATURES, Weights, read, summarize  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning, module=r"jieba")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

FOLDS = 5
C = 1.0
MMR = 0.7


@dataclass(slots=True)
class Example:
    """One article: its text, title, labels and the rows the model learns from."""

    id: str
    title: str
    text: str
    gold: list[str]  # labelled key sentences, or the reference summary (NLPCC)
    features: np.ndarray
    positive: np.ndarray


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def labelled(articles: dict[str, dict[str, Any]], labels: Path) -> list[Example]:
    """Return the examples of a government-news label set."""
    out: list[Example] = []
    for label in read_jsonl(labels):
        article = articles[label["id"]]
        reading = read(article["text"], title=article.get("title", ""))
        texts = [s.text for s in reading.sentences]
        positive = np.zeros(len(texts))
        for m in match_texts(texts, label["key_sentences"]):
            positive[m.predicted] = 1.0
        out.append(
            Example(
                label["id"],
                article.get("title", ""),
                article["text"],
                label["key_sentences"],
                reading.features,
                positive,
            )
        )
    return out


def nlpcc(path: Path) -> list[Example]:
    """Return the NLPCC examples; the positives are the sentences the greedy oracle picks."""
    out: list[Example] = []
    for number, row in enumerate(read_jsonl(path)):
        reading = read(row["text"])
        texts = [s.text for s in reading.sentences]
        budget = len(normalize(row["summary"]))
        picked = oracle_extract("\n".join(texts), row["summary"], budget, clipped=False)
        positive = np.array([1.0 if normalize(t) and normalize(t) in picked else 0.0 for t in texts])
        out.append(Example(str(row.get("id", number)), "", row["text"], [row["summary"]], reading.features, positive))
    return out


def learn(examples: Sequence[Example]) -> Weights:
    """Fit the logistic regression on the examples' sentences."""
    from sklearn.linear_model import LogisticRegression

    rows = [e for e in examples if len(e.positive)]
    x = np.vstack([e.features for e in rows])
    y = np.concatenate([e.positive for e in rows])
    model = LogisticRegression(C=C, max_iter=5000).fit(x, y)
    coefficients = {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    return Weights(round(float(model.intercept_[0]), 4), coefficients, MMR)


def key_recall(examples: Sequence[Example], weights: Weights) -> KeyCounts:
    """Return the key-sentence counts of newsbot with these weights."""
    counts = KeyCounts()
    for e in examples:
        budget = budget_for(e.gold)
        counts.add(summarize(e.text, title=e.title, budget=budget, weights=weights).key_sentences, e.gold)
    return counts


def lead_recall(examples: Sequence[Example], *, cut_bylines: bool) -> KeyCounts:
    """Return Lead's key-sentence counts."""
    counts = KeyCounts()
    for e in examples:
        counts.add(lead(e.text, budget_for(e.gold), cut_bylines=cut_bylines), e.gold)
    return counts


def nlpcc_scores(examples: Sequence[Example], weights: Weights | None) -> list[Rouge]:
    """Return ROUGE per article under the benchmark's protocol (None: Lead)."""
    out = []
    for e in examples:
        reference = e.gold[0]
        budget = len(normalize(reference))
        if weights is None:
            ranking = [e.text]
        else:
            ranking = [r.text for r in summarize(e.text, budget=len(reference), weights=weights).ranking]
        summary, _ = extract(ranking, e.text, budget)
        out.append(rouge(summary, reference))
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _mean(scores: Sequence[Rouge]) -> str:
    n = max(len(scores), 1)
    return " | ".join(f"{100 * sum(getattr(s, k) for s in scores) / n:.2f}" for k in ("r1", "r2", "rl"))


def across(sets: dict[str, list[Example]]) -> str:
    """Return the table of weights learned on each set and scored on each other one."""
    lines = [
        "| learned on | scored on | newsbot | Lead | Lead, bylines cut | articles |",
        "|---|---|---|---|---|---|",
    ]
    for train_name, train in sets.items():
        weights = learn(train)
        for test_name, test in sets.items():
            if test_name == train_name:
                continue
            cells = [train_name, test_name, _pct(key_recall(test, weights).recall)]
            cells += [
                _pct(lead_recall(test, cut_bylines=False).recall),
                _pct(lead_recall(test, cut_bylines=True).recall),
            ]
            lines.append("| " + " | ".join([*cells, str(len(test))]) + " |")
    return "\n".join(lines)


def folds(examples: Sequence[Example]) -> str:
    """Return the NLPCC table: the mean of the held-out folds, beside Lead."""
    held: list[Rouge] = []
    for k in range(FOLDS):
        test = [e for i, e in enumerate(examples) if i % FOLDS == k]
        train = [e for i, e in enumerate(examples) if i % FOLDS != k]
        held.extend(nlpcc_scores(test, learn(train)))
    lead_scores = nlpcc_scores(examples, None)
    return "\n".join(
        [
            "| system | R-1 | R-2 | R-L |",
            "|---|---|---|---|",
            f"| newsbot, {FOLDS}-fold (held-out folds) | {_mean(held)} |",
            f"| Lead | {_mean(lead_scores)} |",
        ]
    )


def render_module(weights: Weights, sources: Sequence[str]) -> str:
    """Return the source of summarizer/_weights.py for these weights."""
    seen = ", ".join(sources)
    lines = [
        '"""The ranker\'s weights, learned by bench/ranker.py (regenerate with it; never edit by hand).',
        "",
        f"Learned on: {seen}.",
        '"""',
        "",
        "from summarizer._rank import Weights",
        "",
        '__all__ = ["WEIGHTS"]',
        "",
        "WEIGHTS = Weights(",
        f"    intercept={weights.intercept},",
        "    coefficients={",
        *(f'        "{name}": {value},' for name, value in weights.coefficients.items()),
        "    },",
        f"    mmr={weights.mmr},",
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Learn, cross-check and optionally write the ranking weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=Path, help="government-news articles JSONL (id, title, text)")
    parser.add_argument("--labels", type=Path, action="append", default=[], help="a label set (repeat)")
    parser.add_argument("--nlpcc", type=Path, help="NLPCC JSONL (text, summary) for the 5-fold table")
    parser.add_argument("--train", type=Path, action="append", default=[], help="label sets --write learns on")
    parser.add_argument("--write", type=Path, help="write the weights module here")
    args = parser.parse_args(argv)
    articles = {row["id"]: row for row in read_jsonl(args.articles)}
    sets = {path.name: labelled(articles, path) for path in args.labels}
    if len(sets) >= 2:
        print("### Key sentences, weights learned on one label set and scored on another\n")
        print(across(sets))
    if args.nlpcc:
        print(f"\n### NLPCC, weights learned on {FOLDS - 1} folds and scored on the fifth\n")
        print(folds(nlpcc(args.nlpcc)))
    if args.write:
        train = args.train or args.labels
        examples = [e for path in train for e in (sets.get(path.name) or labelled(articles, path))]
        args.write.write_text(render_module(learn(examples), [p.name for p in train]), encoding="utf-8")
        print(f"\nWrote {args.write} (learned on {', '.join(p.name for p in train)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
