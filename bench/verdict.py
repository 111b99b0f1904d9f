"""Count what the article verdict (``ingest.verdict``) says of real corpora, and list each rejection.

    .venv/bin/python bench/verdict.py CORPUS [CORPUS ...]

A CORPUS is a folder of saved pages and text dumps (``*.html``, ``*.htm``, ``*.txt``, each read
by ``ingest.parse`` as ingest reads it), one such file, or a JSONL file of articles (``title``
and ``text``, paragraphs separated by newlines, as in ``govnews/articles.jsonl``). Every item is
judged; the table gives per corpus how many items it has, how many are articles, how many are
not (a page the extractor finds no article text in, ``NotAnArticle``, counts here, as ingest
counts it), and how many the parser refused otherwise (empty, binary). Each non-article is then
listed with its reason, so that a person can check that none is news.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import Article, IngestError, NotAnArticle, Verdict, parse, verdict

__all__ = ["main"]

_PAGE_SUFFIXES = frozenset({".html", ".htm", ".txt"})


@dataclass(slots=True)
class Tally:
    """What the verdict said of one corpus."""

    name: str
    articles: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, Verdict]] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Return how many items the corpus holds."""
        return self.articles + len(self.rejected) + len(self.unreadable)


def read_items(path: Path) -> Iterator[tuple[str, Article | IngestError]]:
    """Yield (name, article) for each item of a corpus, or the error that stopped its parse."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as rows:
            for number, line in enumerate(rows, 1):
                if line.strip():
                    row = json.loads(line)
                    name = str(row.get("id") or f"line {number}")
                    yield name, Article(title=row.get("title") or "", paragraphs=row["text"].split("\n"))
        return
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in _PAGE_SUFFIXES) if path.is_dir() else [path]
    for file in files:
        try:
            yield file.name, parse(file.read_bytes(), url=file.resolve().as_uri())
        except IngestError as exc:
            yield file.name, exc


def judge(path: Path) -> Tally:
    """Return the verdict's counts over one corpus."""
    tally = Tally(str(path))
    for name, item in read_items(path):
        if isinstance(item, NotAnArticle):  # ingest counts these as not articles too
            tally.rejected.append((name, Verdict(False, f"extractor: {item}")))
            continue
        if isinstance(item, IngestError):
            tally.unreadable.append((name, str(item)))
            continue
        said = verdict(item)
        if said.is_article:
            tally.articles += 1
        else:
            tally.rejected.append((name, said))
    return tally


def table(tallies: Sequence[Tally]) -> str:
    """Return the Markdown table of items, articles, non-articles and unreadable items per corpus."""
    lines = ["| corpus | items | articles | not articles | unreadable |", "|---|---|---|---|---|"]
    for t in tallies:
        lines.append(f"| {t.name} | {t.items} | {t.articles} | {len(t.rejected)} | {len(t.unreadable)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Judge every item of the corpora named and print the table and the rejections."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", type=Path, nargs="+", help="a folder of pages, one page, or an articles JSONL")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.corpora if not p.exists()]
    if missing:
        parser.error(f"no such corpus: {', '.join(missing)}")
    tallies = [judge(path) for path in args.corpora]
    print(table(tallies))
    for t in tallies:
        for name, said in t.rejected:
            print(f"\nnot an article: {t.name}: {name}\n  {said.reason}", end="")
        for name, error in t.unreadable:
            print(f"\nunreadable: {t.name}: {name}\n  {error}", end="")
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
