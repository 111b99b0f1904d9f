"""Benchmark newsbot's directive extraction and key sentences against hand labels.

    .venv/bin/python bench/directives.py LABELS.jsonl ARTICLES.jsonl \\
        [--seed-gold GOLD.json --seed-text TEXT] [--verbose] [--segmenter jieba]

Each labels row (``id``, ``directives`` [{text, head}], ``key_sentences``) is joined by ``id``
to an article (``title``, ``text`` with paragraphs separated by newlines), which is run
through ``summarize(text, title=title)``. A predicted directive matches a gold one when
their character F1 (NFKC, punctuation and whitespace dropped) is at least 0.8, one-to-one,
greedy by best F1 (``bench/_match.py``); heads are compared exactly after NFKC.

Key sentences, two ways. Match recall (``bench/_keys.py``): with the budget set to the labelled
key sentences' total length, the share of labelled key sentences a predicted one matches
(character F1 ≥ 0.8, one-to-one), for newsbot, Lead and Lead with bylines cut, overall and per
genre (``meeting_type`` in the articles). And the summary's ``key_sentences`` (default budget)
joined, against the gold ones joined, in character ROUGE-1/2/L (``bench/_rouge.py``); Lead there
is the article's first characters cut to the same length as newsbot's key sentences (ROUGE
rewards any text sharing characters with the reference: the match recall is the one to read).

``--also LABELS`` adds more label sets (each gets its rows). False directives on ordinary
stories: the directives newsbot finds per article in the articles labelled ``negative``.

The seed page is parsed with ``ingest.parse`` and summarised as an article; if ``ingest``
cannot do it, the lines between the one starting with 来源 and the one starting with 编辑
are taken as paragraphs. ``--verbose`` lists, per article, the gold directives that were
missed (with the nearest prediction), the false positives and the head disagreements.
``--segmenter jieba`` cuts the words with jieba instead of rjieba.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._keys import KeyCounts, budget_for, lead  # noqa: E402
from bench._match import Match, MatchCounts, char_f1, count_matches, same_head  # noqa: E402
from bench._rouge import Rouge, extract, normalize, rouge, split_clauses  # noqa: E402
from summarizer import SEGMENTERS, segmented_by, summarize  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning, module=r"jieba")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")


@dataclass(slots=True)
class Case:
    """One labelled article: its text and title, or a parsed article, and the gold labels."""

    id: str
    title: str
    text: str
    gold: list[tuple[str, str]]  # (text, head)
    key_sentences: list[str]
    document: Any = None  # an ingest.Article to summarise instead of the text, if any
    genre: str = "ordinary"  # the article's meeting_type; ordinary stories have none


@dataclass(slots=True)
class Outcome:
    """What newsbot did on one case."""

    case: Case
    predicted: list[Any]  # summarizer Directive objects
    counts: MatchCounts
    matches: list[Match]
    keys: Rouge | None
    lead: Rouge | None
    matched: KeyCounts = field(default_factory=KeyCounts)  # newsbot, budget from the labels
    lead_matched: KeyCounts = field(default_factory=KeyCounts)
    lead_cut_matched: KeyCounts = field(default_factory=KeyCounts)


@dataclass(slots=True)
class Totals:
    """Directive counts and key-sentence ROUGE summed over a set of cases."""

    counts: MatchCounts = field(default_factory=MatchCounts)
    keys: list[Rouge] = field(default_factory=list)
    lead: list[Rouge] = field(default_factory=list)
    matched: KeyCounts = field(default_factory=KeyCounts)
    lead_matched: KeyCounts = field(default_factory=KeyCounts)
    lead_cut_matched: KeyCounts = field(default_factory=KeyCounts)
    articles: int = 0

    def add(self, outcome: Outcome) -> None:
        """Add one case's outcome."""
        self.articles += 1
        self.counts += outcome.counts
        for mine, theirs in (
            (self.matched, outcome.matched),
            (self.lead_matched, outcome.lead_matched),
            (self.lead_cut_matched, outcome.lead_cut_matched),
        ):
            mine.gold += theirs.gold
            mine.matched += theirs.matched
        if outcome.keys is not None and outcome.lead is not None:
            self.keys.append(outcome.keys)
            self.lead.append(outcome.lead)


# --------------------------------------------------------------------------- loading


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def gold_pairs(directives: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    """Return gold directives as (text, head) pairs."""
    return [(d["text"], d.get("head", "")) for d in directives]


def load_dev(labels: Path, articles: Path) -> list[Case]:
    """Join labels to their articles by ``id``."""
    by_id = {row["id"]: row for row in read_jsonl(articles)}
    cases: list[Case] = []
    for label in read_jsonl(labels):
        article = by_id.get(label["id"])
        if article is None:
            raise SystemExit(f"{labels}: article {label['id']!r} is not in {articles}")
        cases.append(
            Case(
                id=label["id"],
                title=article.get("title", ""),
                text=article["text"],
                gold=gold_pairs(label.get("directives", [])),
                key_sentences=list(label.get("key_sentences", [])),
                genre=article.get("meeting_type") or "ordinary",
            )
        )
    return cases


def load_negatives(articles: Path) -> list[Case]:
    """Return the ordinary stories (``label: negative``): they prescribe nothing."""
    return [
        Case(id=row["id"], title=row.get("title", ""), text=row["text"], gold=[], key_sentences=[])
        for row in read_jsonl(articles)
        if row.get("label") == "negative"
    ]


def load_seed(gold_path: Path, text_path: Path) -> tuple[Case, str]:
    """Return the seed case, parsed with ``ingest.parse`` if possible, and how it was read."""
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    data = text_path.read_bytes()
    try:
        from ingest import parse

        article = parse(data)
        how = "ingest.parse"
    except Exception as error:  # fall back to the text between 来源 and 编辑
        article = None
        how = f"lines between 来源 and 编辑 (ingest.parse unavailable: {type(error).__name__}: {error})"
    if article is not None:
        title, paragraphs = article.title, list(article.paragraphs)
    else:
        title, paragraphs = _between_source_and_editor(data.decode("utf-8"))
    case = Case(
        id=gold.get("id", text_path.stem),
        title=title or gold.get("title", ""),
        text="\n".join(paragraphs),
        gold=gold_pairs(gold.get("directives", [])),
        key_sentences=list(gold.get("key_sentences", [])),
        document=article,
    )
    return case, how


def _between_source_and_editor(text: str) -> tuple[str, list[str]]:
    """Return the title (last line before 来源) and the stripped lines between 来源 and 编辑."""
    lines = [line.strip() for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("来源")), -1)
    end = next((i for i, line in enumerate(lines) if i > start and line.startswith("编辑")), len(lines))
    title = next((line for line in reversed(lines[: max(start, 0)]) if line), "")
    return title, [line for line in lines[start + 1 : end] if line]


# --------------------------------------------------------------------------- running


def run_case(case: Case, summarize: Any) -> Outcome:
    """Summarise one case and compare it with its labels."""
    summary = summarize(case.document) if case.document is not None else summarize(case.text, title=case.title)
    predicted = list(summary.directives)
    counts, matches = count_matches([(d.text, d.head) for d in predicted], case.gold)
    keys = lead_rouge = None
    if case.key_sentences:
        reference = "".join(case.key_sentences)
        candidate = "".join(summary.key_sentences)
        keys = rouge(candidate, reference)
        lead_text, _ = extract(split_clauses(case.text), case.text, len(normalize(candidate)))
        lead_rouge = rouge(lead_text, reference)
    outcome = Outcome(case, predicted, counts, matches, keys, lead_rouge)
    if case.key_sentences:
        budget = budget_for(case.key_sentences)
        document = case.document if case.document is not None else case.text
        shown = summarize(document, title=case.title, budget=budget).key_sentences
        outcome.matched.add(shown, case.key_sentences)
        outcome.lead_matched.add(lead(case.text, budget), case.key_sentences)
        outcome.lead_cut_matched.add(lead(case.text, budget, cut_bylines=True), case.key_sentences)
    return outcome


# --------------------------------------------------------------------------- reporting


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _mean(scores: Sequence[Rouge]) -> list[str]:
    if not scores:
        return ["—"] * 3
    n = len(scores)
    return [f"{100 * sum(getattr(s, k) for s in scores) / n:.2f}" for k in ("r1", "r2", "rl")]


def directive_table(rows: Sequence[tuple[str, Totals]]) -> str:
    """Return the Markdown table of directive scores, one row per set of cases."""
    lines = [
        "| set | gold | predicted | matched | P | R | F1 | head-acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, totals in rows:
        c = totals.counts
        cells = [name, str(c.gold), str(c.predicted), str(c.matched)]
        cells += [_pct(c.precision), _pct(c.recall), _pct(c.f1), _pct(c.head_accuracy)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def key_sentence_table(rows: Sequence[tuple[str, Totals]]) -> str:
    """Return the Markdown table of key-sentence ROUGE for newsbot and Lead."""
    lines = ["| set | system | R-1 | R-2 | R-L |", "|---|---|---|---|---|"]
    for name, totals in rows:
        lines.append("| " + " | ".join([name, "newsbot key sentences", *_mean(totals.keys)]) + " |")
        lines.append("| " + " | ".join([name, "Lead (same length)", *_mean(totals.lead)]) + " |")
    return "\n".join(lines)


def per_article_table(outcomes: Sequence[Outcome]) -> str:
    """Return the Markdown table of per-article directive counts and key-sentence R-1."""
    lines = [
        "| article | gold | pred | matched | missed | false + | heads ok | keys R-1 | Lead R-1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        c = o.counts
        cells = [o.case.id, str(c.gold), str(c.predicted), str(c.matched)]
        cells += [str(c.gold - c.matched), str(c.predicted - c.matched), f"{c.heads}/{c.matched}"]
        cells += [_pct(o.keys.r1 if o.keys else None), _pct(o.lead.r1 if o.lead else None)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def details(outcome: Outcome) -> str:
    """Return the missed gold directives, false positives and head disagreements of one case."""
    case, predicted = outcome.case, outcome.predicted
    matched_gold = {m.gold for m in outcome.matches}
    matched_pred = {m.predicted for m in outcome.matches}
    c = outcome.counts
    out = [f"#### {case.id}: gold {c.gold}, predicted {c.predicted}, matched {c.matched}"]
    if case.title:
        out.append(f"title: {case.title}")

    missed = [i for i in range(len(case.gold)) if i not in matched_gold]
    if missed:
        out.append(f"\nMISSED gold ({len(missed)}):")
        for i in missed:
            text, head = case.gold[i]
            out.append(f"  G{i + 1} [{head}] {text}")
            near = max(
                ((char_f1(d.text, text), j) for j, d in enumerate(predicted)),
                default=None,
            )
            if near is not None and near[0] > 0.3:
                f1, j = near
                taken = " (already matched to another gold)" if j in matched_pred else ""
                out.append(f"      nearest P{j + 1}, F1 {f1:.2f}{taken}: {predicted[j].text}")

    spurious = [j for j in range(len(predicted)) if j not in matched_pred]
    if spurious:
        out.append(f"\nFALSE POSITIVES ({len(spurious)}):")
        for j in spurious:
            d = predicted[j]
            out.append(f"  P{j + 1} [{d.head}] (¶{d.paragraph}, cue {d.cue}) {d.text}")

    wrong_heads = [m for m in outcome.matches if not same_head(predicted[m.predicted].head, case.gold[m.gold][1])]
    if wrong_heads:
        out.append(f"\nHEAD DISAGREEMENTS ({len(wrong_heads)}):")
        for m in wrong_heads:
            gold_head = unicodedata.normalize("NFKC", case.gold[m.gold][1])
            out.append(f"  G{m.gold + 1} gold [{gold_head}]  predicted [{predicted[m.predicted].head}]")
    if not (missed or spurious or wrong_heads):
        out.append("all correct")
    return "\n".join(out)


def match_table(rows: Sequence[tuple[str, Totals]]) -> str:
    """Return the Markdown table of key-sentence match recall for newsbot and the Leads."""
    lines = [
        "| set | articles | labelled | newsbot | Lead | Lead, bylines cut |",
        "|---|---|---|---|---|---|",
    ]
    for name, totals in rows:
        cells = [name, str(totals.articles), str(totals.matched.gold), _pct(totals.matched.recall)]
        cells += [_pct(totals.lead_matched.recall), _pct(totals.lead_cut_matched.recall)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_genre(outcomes: Sequence[Outcome]) -> list[tuple[str, Totals]]:
    """Return the outcomes' totals per genre, most articles first."""
    genres: dict[str, Totals] = {}
    for outcome in outcomes:
        genres.setdefault(outcome.case.genre, Totals()).add(outcome)
    return sorted(genres.items(), key=lambda item: (-item[1].articles, item[0]))


def negatives_line(outcomes: Sequence[Outcome]) -> str:
    """Return how many directives newsbot finds in ordinary stories, per article."""
    found = sum(len(o.predicted) for o in outcomes)
    with_any = sum(1 for o in outcomes if o.predicted)
    per = found / len(outcomes) if outcomes else 0.0
    return (
        f"{found} directives in {len(outcomes)} ordinary stories ({per:.2f} per article; {with_any} stories with any)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the directive and key-sentence benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", type=Path, help="labels JSONL (id, directives, key_sentences)")
    parser.add_argument("articles", type=Path, help="articles JSONL (id, title, text)")
    parser.add_argument("--also", type=Path, action="append", default=[], help="another label set (repeat)")
    parser.add_argument("--seed-gold", type=Path, help="the seed page's gold JSON")
    parser.add_argument("--seed-text", type=Path, help="the seed page's text dump")
    parser.add_argument("--verbose", "-v", action="store_true", help="list misses and false positives")
    parser.add_argument("--segmenter", choices=SEGMENTERS, default=SEGMENTERS[0], help="the words' segmenter")
    args = parser.parse_args(argv)
    if (args.seed_gold is None) != (args.seed_text is None):
        parser.error("--seed-gold and --seed-text go together")
    with segmented_by(args.segmenter):
        return run(args)


def run(args: argparse.Namespace) -> int:
    """Summarise every labelled article and print the tables."""
    rows: list[tuple[str, Totals]] = []
    genre_rows: list[tuple[str, Totals]] = []
    outcomes: list[Outcome] = []
    for labels in [args.labels, *args.also]:
        set_outcomes = [run_case(case, summarize) for case in load_dev(labels, args.articles)]
        totals = Totals()
        for outcome in set_outcomes:
            totals.add(outcome)
        rows.append((f"{labels.stem} ({len(set_outcomes)} articles)", totals))
        genre_rows.extend((f"{labels.stem}: {genre}", t) for genre, t in by_genre(set_outcomes))
        outcomes.extend(set_outcomes)

    seed_outcome: Outcome | None = None
    if args.seed_gold is not None:
        seed_case, how = load_seed(args.seed_gold, args.seed_text)
        print(f"Seed read with {how}.\n")
        seed_outcome = run_case(seed_case, summarize)
        seed = Totals()
        seed.add(seed_outcome)
        rows.append(("seed", seed))

    print("### Directives (micro; match = char F1 ≥ 0.8 after NFKC, no punctuation/space)\n")
    print(directive_table(rows))
    negatives = [run_case(case, summarize) for case in load_negatives(args.articles)]
    print(f"\nFalse directives: {negatives_line(negatives)}.")
    print("\n### Key sentences, match recall (budget = the labelled key sentences' length)\n")
    print(match_table([r for r in rows if r[1].matched.gold]))
    print("\n### Key sentences, match recall per genre\n")
    print(match_table(genre_rows))
    print("\n### Key sentences (character ROUGE F1 ×100, mean over articles)\n")
    print(key_sentence_table(rows))
    print("\n### Per article\n")
    print(per_article_table(outcomes + ([seed_outcome] if seed_outcome else [])))
    if args.verbose:
        print("\n### Details\n")
        for outcome in [*outcomes, *([seed_outcome] if seed_outcome else [])]:
            print(details(outcome))
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
