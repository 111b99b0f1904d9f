"""What Traditional Chinese costs a digest: OpenCC's conversion beside the render it follows.

    .venv/bin/python bench/script.py [--repeat N]

The sample articles (ingest/samples) and the genre texts (tests/data/genres) are summarised once,
then a 5-, 10- and 20-article digest is rendered as `bot.delivery` renders it and converted with
`bot.script.to_script` (text and buttons). The table gives the median time of each per digest and
the conversion's share of rendering: what a Traditional subscriber adds to the 08:00 batch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.render import DigestItem, digest_messages  # noqa: E402
from bot.script import markup_to_script, to_script  # noqa: E402
from bot.texts import HANT  # noqa: E402
from summarizer import split_paragraphs, summarize  # noqa: E402
from tests.stored import Stored  # noqa: E402

_TEXTS = [
    *sorted((ROOT / "ingest" / "samples").glob("*.txt")),
    *sorted((ROOT / "tests" / "data" / "genres").glob("*.txt")),
]


def _items() -> list[DigestItem]:
    items = []
    for n, path in enumerate(_TEXTS, 1):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        article = Stored(n, f"https://example.cn/{n}.html", title.strip(), split_paragraphs(text), "bench")
        items.append(DigestItem(article, summarize(text, title=title.strip()), "示例"))
    return items


def _median_us(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    items = _items()
    to_script("预热", HANT)  # the dictionaries load once, at the first conversion
    print(f"{len(items)} articles; median of {args.repeat} runs per digest\n")
    print("| articles | parts | characters | render µs | convert µs | convert / render |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (5, 10, 20):
        digest = (items * (size // len(items) + 1))[:size]

        def render(digest: list[DigestItem] = digest, size: int = size) -> list[tuple[str, object]]:
            return digest_messages(digest, "zh", "<b>每日摘要 · 2026-01-01</b>", more=3, more_offset=size)

        parts = render()

        def convert(parts: list[tuple[str, object]] = parts) -> None:
            for text, markup in parts:
                to_script(text, HANT)
                if markup is not None:
                    markup_to_script(markup.to_dict(), HANT)  # type: ignore[attr-defined]

        rendered, converted = _median_us(render, args.repeat), _median_us(convert, args.repeat)
        chars = sum(len(text) for text, _ in parts)
        print(f"| {size} | {len(parts)} | {chars} | {rendered:.0f} | {converted:.0f} | {converted / rendered:.2f} |")


if __name__ == "__main__":
    main()
