"""Benchmark HTML article extraction against peers on a directory of labelled pages.

Usage: ``python bench/extract.py PAGES_DIR [--only NAME ...] [--details]``

PAGES_DIR holds ``NAME.html`` (raw bytes, as fetched) beside ``NAME.json`` (ground truth:
``content``, ``title``, ``publish_date`` or ``publish_time``, ``author``, ``gt_fields``,
``encoding_bytes``). Each page counts only in the columns its ``gt_fields`` label:

- body: bag of characters (NFKC, whitespace and punctuation dropped), precision, recall and F1
  per page, averaged over the pages;
- title: the normalised title equals the label (a label that is the document ``<title>`` with
  a site suffix also accepts the headline it starts with);
- date: the same calendar day;
- author: the set of names equals the label's. The labels name whoever the page credits, the
  editor when no reporter is named (责任编辑：X), and GNE reads pages the same way; ours counts
  as its authors, else its editor.

Every extractor gets the same text, decoded by ``ingest._decode.decode_html``; ours is timed
from the raw bytes, decoding included. The peers (readability-lxml, trafilatura, GNE,
newspaper4k) come from the ``bench`` extra and are skipped with a note when missing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import decode_html, extract_html

__all__ = ["main"]


@dataclass(slots=True)
class Page:
    """One labelled page: its raw bytes, its text and its ground truth."""

    name: str
    data: bytes
    html: str
    truth: dict[str, Any]


@dataclass(slots=True)
class Output:
    """What an extractor returned for one page, reduced to the scored fields."""

    title: str = ""
    body: str = ""
    day: str | None = None
    authors: list[str] = field(default_factory=list)


Extractor = Callable[[Page], Output]

_DAY = re.compile(r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_NAME_SPLIT = re.compile(r"[\s,，、;；/|]+")


def _day_of(value: Any) -> str | None:
    """Return ``YYYY-MM-DD`` for a datetime or the first date written in a string."""
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d"))
    match = _DAY.search(str(value))
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _chars(text: str) -> Counter[str]:
    """Return the bag of characters scored for bodies: no whitespace, no punctuation."""
    text = unicodedata.normalize("NFKC", text)
    return Counter(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


def _plain(text: str) -> str:
    """Return a title normalised for comparison."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text)
        if not c.isspace() and not unicodedata.category(c).startswith("P")
    )


def _names(value: str | list[str] | None) -> set[str]:
    """Return the set of author names in a label or an extractor's output."""
    if not value:
        return set()
    parts = value if isinstance(value, list) else [value]
    return {n for part in parts for n in _NAME_SPLIT.split(part) if n}


# ── extractors ───────────────────────────────────────────────────────────────────────────


def run_ours(page: Page) -> Output:
    """Run newsbot's extractor on the raw bytes."""
    article = extract_html(decode_html(page.data), url=page.truth.get("url"))
    return Output(
        title=article.title,
        body=article.text,
        day=_day_of(article.published_at),
        authors=[a.name for a in article.authors] or ([article.editor] if article.editor else []),
    )


def run_readability(page: Page) -> Output:
    """Run readability-lxml (body and title only)."""
    import lxml.html
    from readability import Document

    doc = Document(page.html)
    summary = doc.summary(html_partial=True)
    body = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
    return Output(title=doc.short_title(), body=body)


def run_trafilatura(page: Page) -> Output:
    """Run trafilatura with metadata."""
    import trafilatura

    raw = trafilatura.extract(page.html, url=page.truth.get("url"), output_format="json", with_metadata=True)
    if not raw:
        return Output()
    data = json.loads(raw)
    return Output(
        title=data.get("title") or "",
        body=data.get("text") or "",
        day=_day_of(data.get("date")),
        authors=sorted(_names(data.get("author"))),
    )


def run_gne(page: Page) -> Output:
    """Run GNE (GeneralNewsExtractor)."""
    from gne import GeneralNewsExtractor

    data = GeneralNewsExtractor().extract(page.html)
    return Output(
        title=data.get("title") or "",
        body=data.get("content") or "",
        day=_day_of(data.get("publish_time")),
        authors=sorted(_names(data.get("author"))),
    )


def run_newspaper(page: Page) -> Output:
    """Run newspaper4k with language zh."""
    import newspaper

    # fetch_images=False: otherwise it downloads images to pick a top image (no network here).
    article = newspaper.article(
        page.truth.get("url") or "http://example.invalid/",
        language="zh",
        input_html=page.html,
        fetch_images=False,
    )
    return Output(
        title=article.title or "",
        body=article.text or "",
        day=_day_of(article.publish_date),
        authors=sorted(_names(list(article.authors))),
    )


# Module to check for before running each peer, so a missing extra is a note, not a crash.
EXTRACTORS: dict[str, tuple[Extractor, str | None]] = {
    "newsbot": (run_ours, None),
    "newspaper4k (zh)": (run_newspaper, "newspaper"),
    "readability-lxml": (run_readability, "readability"),
    "trafilatura": (run_trafilatura, "trafilatura"),
    "GNE": (run_gne, "gne"),
}

# ── scoring ──────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Scores:
    """Per-extractor accumulators."""

    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    title: list[bool] = field(default_factory=list)
    date: list[bool] = field(default_factory=list)
    author: list[bool] = field(default_factory=list)
    seconds: float = 0.0
    pages: int = 0
    failures: int = 0


def score_page(page: Page, out: Output, scores: Scores, details: list[str]) -> None:
    """Add one page's hits and body scores to ``scores``."""
    truth = page.truth
    fields = set(truth.get("gt_fields", []))
    if "content" in fields and truth.get("content"):
        gold, pred = _chars(truth["content"]), _chars(out.body)
        common = sum((gold & pred).values())
        p = common / sum(pred.values()) if pred else 0.0
        r = common / sum(gold.values()) if gold else 0.0
        scores.precision.append(p)
        scores.recall.append(r)
        scores.f1.append(2 * p * r / (p + r) if p + r else 0.0)
        details.append(f"body P={p:.2f} R={r:.2f}")
    if "title" in fields and truth.get("title"):
        gold_title, pred_title = _plain(truth["title"]), _plain(out.title)
        hit = pred_title == gold_title
        if not hit and "suffix" in (truth.get("title_kind") or ""):
            hit = len(pred_title) * 2 >= len(gold_title) and gold_title.startswith(pred_title)
        scores.title.append(hit)
        details.append(f"title {'ok' if hit else 'MISS'} {out.title!r}")
    gold_day = truth.get("publish_date")
    if "publish_time" in fields and gold_day:
        hit = out.day == gold_day
        scores.date.append(hit)
        details.append(f"date {'ok' if hit else 'MISS'} {out.day} (gold {gold_day})")
    if "author" in fields and truth.get("author"):
        hit = _names(out.authors) == _names(truth["author"])
        scores.author.append(hit)
        details.append(f"author {'ok' if hit else 'MISS'} {out.authors} (gold {truth['author']})")


def load_pages(pages_dir: Path) -> list[Page]:
    """Return every labelled page of the directory, decoded with our decoder."""
    pages = []
    for truth_path in sorted(pages_dir.glob("*.json")):
        html_path = truth_path.with_suffix(".html")
        if not html_path.exists():
            continue
        data = html_path.read_bytes()
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        pages.append(Page(truth_path.stem, data, decode_html(data), truth))
    return pages


def decoding_report(pages: list[Page]) -> str:
    """Return how many non-UTF-8 pages our decoder turned into the right text."""
    legacy = [p for p in pages if p.truth.get("encoding_bytes", "utf-8") != "utf-8"]
    right = [p for p in legacy if p.html == p.data.decode(p.truth["encoding_bytes"], errors="replace").lstrip("\ufeff")]
    wrong = ", ".join(p.name for p in legacy if p not in right)
    return f"GB-encoded pages decoded correctly: {len(right)}/{len(legacy)}" + (f" (wrong: {wrong})" if wrong else "")


def _pct(values: list[float] | list[bool]) -> str:
    """Return a mean as a percentage with one decimal, or a dash when nothing was scored."""
    return f"{100 * sum(values) / len(values):.1f}" if values else "—"


def main(argv: list[str] | None = None) -> int:
    """Run every available extractor over the pages and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages_dir", type=Path)
    parser.add_argument("--only", action="append", help="run only these extractors")
    parser.add_argument("--details", action="store_true", help="print per-page results")
    args = parser.parse_args(argv)

    pages = load_pages(args.pages_dir)
    if not pages:
        parser.error(f"no labelled pages in {args.pages_dir}")
    rows = []
    notes = []
    counted: Scores | None = None
    for label, (run, module) in EXTRACTORS.items():
        if args.only and label not in args.only:
            continue
        if module and importlib.util.find_spec(module) is None:
            notes.append(f"{label}: not installed (pip install -e '.[bench]')")
            continue
        scores = Scores()
        # One untimed run first: imports and dictionary loading (jieba) are not per-page costs.
        with contextlib.suppress(Exception):  # the timed loop below records failures
            run(pages[0])
        for page in pages:
            details: list[str] = []
            started = time.perf_counter()
            try:
                out = run(page)
            except Exception as exc:
                out = Output()
                scores.failures += 1
                details.append(f"FAILED {type(exc).__name__}: {exc}")
            scores.seconds += time.perf_counter() - started
            scores.pages += 1
            score_page(page, out, scores, details)
            if args.details:
                print(f"{label:18} {page.name:45} " + " | ".join(details), file=sys.stderr)
        if scores.failures:
            notes.append(f"{label}: failed on {scores.failures} page(s), scored as empty")
        rows.append(
            f"| {label} | {_pct(scores.precision)} | {_pct(scores.recall)} | {_pct(scores.f1)} "
            f"| {_pct(scores.title)} | {_pct(scores.date)} | {_pct(scores.author)} "
            f"| {1000 * scores.seconds / scores.pages:.0f} |"
        )
        counted = scores
    if counted is not None:
        print(
            f"{len(pages)} pages; scored: body {len(counted.f1)}, title {len(counted.title)}, "
            f"date {len(counted.date)}, author {len(counted.author)}\n"
        )
    print("| extractor | body P | body R | body F1 | title | date | author | ms/page |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(decoding_report(pages))
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
