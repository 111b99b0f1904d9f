"""How much of an article a reader is shown: /summary, channel post and digest entry, over a corpus.

    .venv/bin/python bench/shown.py ARTICLES.jsonl [ARTICLES.jsonl …]

Each article (``id``, ``title``, ``text``) is summarised and rendered as the bot renders it. The
table gives, for articles over 1,500 characters and for the rest, the characters shown (tags
dropped) against the body: the median and largest share, the largest count, how many break the
rule (/summary of an article over 1,500 characters: at most 40% of its body and 1,200 characters),
how many articles show their directives as a line of heads, and how many directives were left out
because a key sentence already says them. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.render import channel_post, digest_messages, shown_length, summary_message, unrepeated  # noqa: E402
from summarizer import split_paragraphs, summarize  # noqa: E402
from tests.stored import Stored  # noqa: E402

LONG = 1500  # characters of body from which the 40% rule holds
_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(slots=True)
class _Row:
    body: int
    summary: int
    post: int
    digest: int
    folded: bool
    repeated: int


def measure(row: dict[str, object], n: int) -> _Row:
    """Render one article every way a reader meets it and count what is shown."""
    text, title = str(row["text"]), str(row.get("title") or "")
    article = Stored(n, f"https://example.cn/{n}.html", title, split_paragraphs(text), "bench")
    data = summarize(text, title=title)
    message, _ = summary_message(article, data, "zh", _ZONE)
    digest = digest_messages([(article, data)], "zh", "2026-01-01")[0]
    return _Row(
        body=sum(len(p) for p in article.paragraphs),
        summary=shown_length(message),
        post=shown_length(channel_post(article, data, _ZONE)),
        digest=shown_length(digest),
        folded="项）" in message,
        repeated=len(data.directives) - len(unrepeated(data.directives, data.key_sentences)),
    )


def _breaks(r: _Row) -> bool:
    return r.body > LONG and (r.summary > 0.4 * r.body or r.summary > 1200)


def table(rows: Sequence[_Row]) -> str:
    """Return the Markdown table, long articles and the rest apart."""
    lines = [
        "| articles | n | /summary median share | largest share | largest chars | over the rule "
        "| channel post largest | digest entry largest | heads line | repeats left out |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, group in (
        (f"over {LONG} chars", [r for r in rows if r.body > LONG]),
        (f"{LONG} chars or less", [r for r in rows if r.body <= LONG]),
    ):
        if not group:
            continue
        shares = [r.summary / r.body for r in group if r.body]
        cells = [
            name,
            str(len(group)),
            f"{100 * statistics.median(shares):.0f}%",
            f"{100 * max(shares):.0f}%",
            str(max(r.summary for r in group)),
            str(sum(map(_breaks, group))),
            str(max(r.post for r in group)),
            str(max(r.digest for r in group)),
            str(sum(r.folded for r in group)),
            str(sum(r.repeated for r in group)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every article of the given corpora and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", type=Path, nargs="+", help="articles JSONL (id, title, text)")
    args = parser.parse_args(argv)
    rows: list[_Row] = []
    for path in args.articles:
        with path.open(encoding="utf-8") as handle:
            rows.extend(measure(json.loads(line), len(rows) + 1) for line in handle if line.strip())
    print(table(rows))
    return 1 if any(map(_breaks, rows)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
