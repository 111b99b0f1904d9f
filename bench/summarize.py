"""Benchmark newsbot's sentence ranking against peers on corpora with reference summaries.

    .venv/bin/python bench/summarize.py CORPUS.jsonl [CORPUS2.jsonl ...] [--limit N]

Each JSONL row has the article in ``text`` and the reference summary in ``summary``. For
every system, its sentences are taken in its rank order until the reference's length is
reached, put back in document order, joined, and cut to exactly the reference's length;
the extract is scored with character ROUGE-1/2/L F1 (see ``bench/_rouge.py`` for what is
counted). This is the protocol of the peer table in the corpus README, which this script
reproduces on ``nlpcc2017-dev.jsonl``.

Systems: newsbot (``summarizer.summarize``, skipped with a note if it cannot be imported),
also with jieba as its segmenter instead of rjieba (``segmented_by("jieba")``), Lead,
textrank4zh, SnowNLP, sumy LexRank and TextRank (jieba words, sumy's Chinese stop words), and a
greedy Oracle; plus the time of a bare ``jieba.lcut`` pass, the floor for any jieba-based
summariser, and of a bare ``rjieba.cut`` pass. Token agreement: the share of jieba's words
(as character spans) that rjieba cuts too, with HMM as the bare passes cut and without it as
newsbot cuts. Every system is warmed up on one article before it is timed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._rouge import Rouge, extract, ngram_f1, normalize, rouge, split_clauses  # noqa: E402

# jieba imports pkg_resources (deprecated) and logs its dictionary loading to stderr.
warnings.filterwarnings("ignore", category=UserWarning, module=r"jieba")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

Ranker = Callable[[str, int], list[str]]
"""(article text, budget in characters) -> the article's sentences, best first."""

REFERENCE_FIELDS = ("summary", "reference", "abstract")
NEWSBOT = "newsbot"
NEWSBOT_JIEBA = "newsbot, jieba segmenter"


@dataclass(slots=True)
class Row:
    """One article and its reference summary."""

    id: str
    text: str
    reference: str


@dataclass(slots=True)
class System:
    """A ranking system under test."""

    name: str
    rank: Ranker


@dataclass(slots=True)
class Tally:
    """Running totals of one system over one corpus."""

    r1: float = 0.0
    r2: float = 0.0
    rl: float = 0.0
    seconds: float = 0.0
    articles: int = 0
    unordered: int = 0  # extracts left in rank order because a sentence was not found
    errors: list[str] = field(default_factory=list)

    def add(self, score: Rouge) -> None:
        """Add one article's scores."""
        self.r1 += score.r1
        self.r2 += score.r2
        self.rl += score.rl
        self.articles += 1

    def cells(self, timed: bool = True, scored: bool = True) -> list[str]:
        """Return the R-1, R-2, R-L and ms/article cells of a table row."""
        n = max(self.articles, 1)
        scores = [f"{100 * v / n:.2f}" for v in (self.r1, self.r2, self.rl)] if scored else ["—"] * 3
        ms = 1000 * self.seconds / n
        return [*scores, (f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}") if timed else "—"]


# --------------------------------------------------------------------------- corpora


def load_rows(path: Path, limit: int | None) -> list[Row]:
    """Read a JSONL corpus of articles with reference summaries."""
    rows: list[Row] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            data: dict[str, Any] = json.loads(line)
            reference = next((data[k] for k in REFERENCE_FIELDS if data.get(k)), None)
            if not data.get("text") or reference is None:
                raise ValueError(f"{path}:{number}: needs 'text' and one of {REFERENCE_FIELDS}")
            rows.append(Row(str(data.get("id", number)), data["text"], reference))
            if limit is not None and len(rows) >= limit:
                break
    return rows


# --------------------------------------------------------------------------- systems


def newsbot_systems() -> list[System]:
    """newsbot's ranking: ``summarize(text, budget=len(reference)).ranking``, best first, as it ships
    (rjieba) and with jieba segmenting."""
    from summarizer import segmented_by, summarize

    def rank(text: str, budget: int) -> list[str]:
        return [r.text for r in summarize(text, title=None, budget=budget).ranking]

    def rank_jieba(text: str, budget: int) -> list[str]:
        with segmented_by("jieba"):
            return rank(text, budget)

    return [System(NEWSBOT, rank), System(NEWSBOT_JIEBA, rank_jieba)]


def lead_system() -> System:
    """The article's sentences in document order.

    Under this protocol Lead is simply the first ``budget`` characters of the article,
    whatever the splitter, as long as it keeps all the text.
    """
    return System("Lead (first sentences)", lambda text, _budget: split_clauses(text))


def textrank4zh_system() -> System:
    """textrank4zh 0.3 as its README shows it: ``analyze(lower=True, source="all_filters")``."""
    import networkx

    if importlib.util.find_spec("scipy") is None:
        raise ImportError("networkx.pagerank needs scipy: .venv/bin/pip install scipy")
    if not hasattr(networkx, "from_numpy_matrix"):  # removed in networkx 3
        networkx.from_numpy_matrix = networkx.from_numpy_array
    from textrank4zh import TextRank4Sentence

    tr4s = TextRank4Sentence()

    def rank(text: str, _budget: int) -> list[str]:
        tr4s.analyze(text=text, lower=True, source="all_filters")
        return [item.sentence for item in tr4s.key_sentences]

    return System("textrank4zh", rank)


def snownlp_system() -> System:
    """SnowNLP's TextRank summary, asked for every sentence so that it is a full ranking."""
    from snownlp import SnowNLP

    def rank(text: str, _budget: int) -> list[str]:
        doc = SnowNLP(text)
        return doc.summary(len(doc.sentences))

    return System("SnowNLP", rank)


def sumy_systems(own_split: bool) -> list[System]:
    """sumy LexRank and TextRank over jieba words (``Tokenizer("chinese")``) minus stop words.

    sumy's own Chinese sentence splitter cuts only at full-width 。！？ and drops a final
    sentence without one; the README table split at textrank4zh's delimiters instead
    (``split_clauses``), which is the default here. ``own_split`` keeps sumy as it ships.
    """
    from sumy.nlp.tokenizers import Tokenizer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    class ClauseTokenizer(Tokenizer):
        """sumy's Chinese tokenizer (jieba words) with the README's sentence units."""

        def to_sentences(self, paragraph: str) -> tuple[str, ...]:
            return tuple(split_clauses(paragraph))

    tokenizer = Tokenizer("chinese") if own_split else ClauseTokenizer("chinese")
    stop_words = get_stop_words("chinese")
    suffix = " (sumy's splitter)" if own_split else ""

    def make(name: str, summarizer: Any) -> System:
        summarizer.stop_words = stop_words

        def rank(text: str, _budget: int) -> list[str]:
            document = PlaintextParser.from_string(text, tokenizer).document
            ranked: list[Any] = []

            def keep_all(infos: list[Any]) -> list[Any]:
                ranked.extend(infos)  # sumy passes the sentences sorted by rating, best first
                return infos

            summarizer(document, keep_all)
            return [str(info.sentence) for info in ranked]

        return System(name + suffix, rank)

    return [
        make("sumy LexRank (jieba tokens)", LexRankSummarizer()),
        make("sumy TextRank", TextRankSummarizer()),
    ]


def oracle_extract(text: str, reference: str, budget: int, *, clipped: bool) -> str:
    """Greedy oracle over ``split_clauses`` units.

    Repeatedly add the unit that most raises ROUGE-1 + ROUGE-2 F1 of the protocol extract
    (document order, cut to ``budget``); stop when nothing raises it or the budget is full.
    """
    units = [u for u in (normalize(s) for s in split_clauses(text)) if u]
    target = normalize(reference)
    chosen: list[int] = []
    best = -1.0
    while len(chosen) < len(units) and sum(len(units[i]) for i in chosen) < budget:
        gain, pick = max(
            (
                _objective("".join(units[j] for j in sorted([*chosen, i]))[:budget], target, clipped),
                -i,
            )
            for i in range(len(units))
            if i not in chosen
        )
        if gain <= best:
            break
        best = gain
        chosen.append(-pick)
    return "".join(units[i] for i in sorted(chosen))[:budget]


def _objective(candidate: str, reference: str, clipped: bool) -> float:
    return ngram_f1(candidate, reference, 1, clipped=clipped) + ngram_f1(candidate, reference, 2, clipped=clipped)


def load_systems(own_split: bool) -> tuple[list[System], list[str]]:
    """Return the systems that can be imported, and a note for each one that cannot."""
    factories: list[tuple[str, Callable[[], list[System]]]] = [
        ("newsbot", newsbot_systems),
        ("Lead", lambda: [lead_system()]),
        ("textrank4zh", lambda: [textrank4zh_system()]),
        ("SnowNLP", lambda: [snownlp_system()]),
        ("sumy", lambda: sumy_systems(own_split)),
    ]
    systems: list[System] = []
    notes: list[str] = []
    for name, factory in factories:
        try:
            systems.extend(factory())
        except Exception as error:  # a missing peer must not stop the others
            notes.append(f"{name} skipped: {type(error).__name__}: {error}")
    return systems, notes


# --------------------------------------------------------------------------- running


Cut = Callable[..., list[str]]
"""A segmenter's cut: text (and its HMM flag) -> words."""


def jieba_lcut() -> Cut:
    """Return ``jieba.lcut`` with the dictionary already loaded."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.lcut


def rjieba_cut() -> Cut:
    """Return ``rjieba.cut``; its dictionary is built when it is imported."""
    import rjieba

    return rjieba.cut


@dataclass(slots=True)
class Agreement:
    """How many of jieba's words, as character spans, rjieba cuts too."""

    same: int = 0
    words: int = 0

    def add(self, jieba_words: list[str], rjieba_words: list[str]) -> None:
        """Count one text's words."""
        self.same += len(_spans(jieba_words) & _spans(rjieba_words))
        self.words += len(jieba_words)

    def percent(self) -> str:
        """Return the share agreeing, in per cent."""
        return f"{100 * self.same / max(self.words, 1):.2f} %"


def _spans(words: list[str]) -> set[tuple[int, int]]:
    spans, at = set(), 0
    for word in words:
        spans.add((at, at + len(word)))
        at += len(word)
    return spans


@dataclass(slots=True)
class Run:
    """One corpus's results: the systems, the Oracle, the bare segmenter passes, their agreement."""

    tallies: dict[str, Tally]
    oracle: Tally = field(default_factory=Tally)
    jieba: Tally = field(default_factory=Tally)
    rjieba: Tally = field(default_factory=Tally)
    hmm: Agreement = field(default_factory=Agreement)  # as the bare passes cut
    no_hmm: Agreement = field(default_factory=Agreement)  # as newsbot cuts


def warm_up(systems: Sequence[System], row: Row) -> None:
    """Run every system once so that lazy loading (dictionaries, models) is not timed."""
    for system in systems:
        with contextlib.suppress(Exception):  # a failure is reported when the article is scored
            system.rank(row.text, len(row.reference))


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``function`` and return its result and the seconds it took."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def evaluate(rows: Sequence[Row], systems: Sequence[System], *, clipped: bool) -> Run:
    """Score every system on every row; time the bare segmenter passes and compare their words."""
    lcut, rcut = jieba_lcut(), rjieba_cut()
    run = Run({system.name: Tally() for system in systems})
    for row in rows:
        budget = len(normalize(row.reference))
        for system in systems:
            tally = run.tallies[system.name]
            try:
                ranking, seconds = timed(lambda s=system, r=row: s.rank(r.text, len(r.reference)))
            except Exception as error:  # count it, score it zero, go on
                tally.errors.append(f"{row.id}: {type(error).__name__}: {error}")
                if len(tally.errors) == 1:
                    traceback.print_exc(file=sys.stderr)
                tally.add(Rouge(0.0, 0.0, 0.0))
                continue
            summary, ordered = extract(ranking, row.text, budget)
            tally.seconds += seconds
            tally.unordered += not ordered
            tally.add(rouge(summary, row.reference, clipped=clipped))
        run.oracle.add(
            rouge(oracle_extract(row.text, row.reference, budget, clipped=clipped), row.reference, clipped=clipped)
        )
        cuts = []
        for floor, cut in ((run.jieba, lcut), (run.rjieba, rcut)):
            words, seconds = timed(lambda c=cut, r=row: c(r.text))
            cuts.append(words)
            floor.seconds += seconds
            floor.articles += 1
        run.hmm.add(*cuts)
        run.no_hmm.add(lcut(row.text, HMM=False), rcut(row.text, hmm=False))
    return run


def _ratios(name: str, seconds: float, run: Run) -> str:
    """Return how a system's time compares with bare jieba's and textrank4zh's."""
    text = f"{name} {seconds / run.jieba.seconds:.2f}× bare jieba.lcut"
    peer = run.tallies.get("textrank4zh")
    if name in run.tallies and peer is not None and peer.seconds and seconds:
        text += f", {peer.seconds / seconds:.0f}× faster than textrank4zh"
    return text


def report(name: str, n: int, run: Run) -> str:
    """Return the Markdown table of one corpus and its notes."""
    lines = [
        f"### {name} ({n} articles)",
        "",
        "| system | R-1 | R-2 | R-L | ms/article |",
        "|---|---|---|---|---|",
    ]
    for system, tally in run.tallies.items():
        lines.append("| " + " | ".join([system, *tally.cells()]) + " |")
    lines.append("| " + " | ".join(["Oracle (greedy R-1+R-2)", *run.oracle.cells(timed=False)]) + " |")
    lines.append("| " + " | ".join(["bare jieba.lcut", *run.jieba.cells(scored=False)]) + " |")
    lines.append("| " + " | ".join(["bare rjieba.cut", *run.rjieba.cells(scored=False)]) + " |")
    lines.append("")
    if run.jieba.seconds:
        ratios = [_ratios(s, run.tallies[s].seconds, run) for s in (NEWSBOT, NEWSBOT_JIEBA) if s in run.tallies]
        ratios.append(_ratios("bare rjieba.cut", run.rjieba.seconds, run))
        lines.append("Time: " + "; ".join(ratios) + ".")
    lines.append(
        f"Token agreement, rjieba with jieba: {run.hmm.percent()} with HMM (the bare passes), "
        f"{run.no_hmm.percent()} without (as newsbot cuts)."
    )
    for system, tally in run.tallies.items():
        if tally.unordered:
            lines.append(
                f"Note: {system}: {tally.unordered} extract(s) kept in rank order "
                "(a sentence was not found in the text)."
            )
        if tally.errors:
            lines.append(
                f"Note: {system} failed on {len(tally.errors)} article(s), scored 0: " + "; ".join(tally.errors[:3])
            )
    return "\n".join(lines).rstrip() + "\n"


def iter_corpora(paths: Sequence[Path], limit: int | None) -> Iterator[tuple[Path, list[Row]]]:
    """Yield each corpus path with its rows."""
    for path in paths:
        yield path, load_rows(path, limit)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one Markdown table per corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="JSONL files with text and summary")
    parser.add_argument("--limit", type=int, default=None, help="first N articles of each corpus")
    parser.add_argument(
        "--clipped",
        action="store_true",
        help="ROUGE-N with clipped n-gram counts (ROUGE-1.5.5) instead of n-gram types",
    )
    parser.add_argument(
        "--sumy-own-split",
        action="store_true",
        help="let sumy split sentences itself (full-width 。！？ only) instead of the README units",
    )
    args = parser.parse_args(argv)

    systems, notes = load_systems(args.sumy_own_split)
    for note in notes:
        print(f"Note: {note}")
    corpora = list(iter_corpora(args.corpora, args.limit))
    first = next((rows[0] for _, rows in corpora if rows), None)
    if first is None:
        print("No articles.")
        return 1
    jieba_lcut()
    warm_up(systems, first)
    for path, rows in corpora:
        run = evaluate(rows, systems, clipped=args.clipped)
        print()
        print(report(path.name, len(rows), run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
