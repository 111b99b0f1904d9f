"""Hostile pages: each is parsed and summarised in bounded time and memory, and gives an
`Article` or a documented error; an ingest run with hostile pages among good ones stores the good
ones, fails the hostile ones (counting those with no article text as not articles) and goes on.

The pages are generated here, never stored. Time is wall time; memory is the peak resident
memory above what the process held before the page (Linux: VmHWM, reset through
/proc/self/clear_refs). To print both for every page:

    .venv/bin/python -m tests.hardening.test_hostile_pages
"""

from __future__ import annotations

import multiprocessing
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.pipeline import FAILED, NOT_ARTICLE, ingest_targets
from ingest import (
    Article,
    DecodeError,
    FetchConfig,
    Fetcher,
    IngestError,
    NotAnArticle,
    ParseError,
    TooLargeError,
    parse,
)
from storage import latest_articles, make_sessionmaker
from summarizer import summarize
from tests.pageserver import PageServer

SAMPLES = Path(__file__).parents[2] / "ingest" / "samples"
UTF8_PAGE = (SAMPLES / "yunnan-daily-2022-02-13.html").read_bytes()  # <meta charset="utf-8">
GBK_PAGE = (SAMPLES / "cnr-gb2312-2022-02-13.html").read_bytes()  # <meta charset="gb2312">
UTF8_TITLE = "17种产品、1个园区入选国家绿色制造名单"
GBK_TITLE = "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》"
URL = "http://news.example.cn/2024/06/12/article.html"
MB = 2**20

PARAGRAPH = "<p>会议强调，要加强安全生产工作，确保人民群众生命财产安全。各地要压实责任，做好汛期防范。</p>\n"
HEAD = "<html><head><meta charset='utf-8'><title>清河县召开汛期安全生产工作会议</title></head><body>"
ARTICLE = "<h1>清河县召开汛期安全生产工作会议</h1>" + PARAGRAPH * 5
DEPTH = 100_000


def page(body: str) -> bytes:
    return (HEAD + body + "</body></html>").encode()


def repeat_to(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def text_dump(size: int) -> bytes:
    head = "清河县召开汛期安全生产工作会议\n来源：清河新闻网 2024-06-12 09:30\n".encode()
    return head + repeat_to("会议强调，要加强安全生产工作，确保人民群众生命财产安全。\n".encode(), size - len(head))


def swap_charset(data: bytes, label: bytes) -> bytes:
    return re.sub(rb'charset="[\w-]+"', b'charset="' + label + b'"', data, count=1)


@dataclass(frozen=True, slots=True)
class Case:
    """A hostile page, what parsing it must give, and the bounds it must keep."""

    name: str
    data: Callable[[], bytes]
    expect: type[IngestError] | str  # the error, or text the article must hold
    seconds: float  # generous: several times what it takes on a loaded two-core machine
    peak_mb: float
    encoding: str | None = None  # the charset the server declares


CASES = [
    Case("50 MB of text", lambda: text_dump(50 * MB), TooLargeError, 2, 50),
    Case("50 MB of HTML", lambda: page(PARAGRAPH * (50 * MB // len(PARAGRAPH.encode()))), TooLargeError, 2, 50),
    # Just under the 20 MB limit: the summariser once ranked all 220,000 sentences (tens of GB).
    Case("19 MB text dump", lambda: text_dump(19 * MB), "会议强调，要加强安全生产工作", 20, 1000),
    Case(
        "19 MB HTML page",
        lambda: page(ARTICLE + PARAGRAPH * (19 * MB // len(PARAGRAPH.encode()))),
        "会议强调",
        30,
        1000,
    ),
    Case("100,000 nested <div>", lambda: page("<div>" * DEPTH + ARTICLE + "</div>" * DEPTH), "各地要压实责任", 10, 300),
    Case(
        "article after 100,000 nested <div>",
        lambda: page("<div>" * DEPTH + "</div>" * DEPTH + ARTICLE),
        "各地要压实责任",
        10,
        300,
    ),
    Case("100,000 unclosed <span>", lambda: page("<span>" * DEPTH + ARTICLE), "各地要压实责任", 10, 300),
    # libxml2 drops a text node over 10 MB (3.3 million Chinese characters), huge_tree being off.
    Case(
        "4-million-character text node",
        lambda: page("<p>" + "会议强调，要加强安全生产工作。" * 270_000),
        NotAnArticle,
        10,
        300,
    ),
    Case(
        "all <script>",
        lambda: page("<script>var a = '会议强调，要加强安全生产工作。';</script>" * 20_000),
        NotAnArticle,
        10,
        300,
    ),
    Case("zero-length", lambda: b"", ParseError, 1, 50),
    Case("only whitespace", lambda: b" \r\n\t" * 1000, ParseError, 1, 50),
    Case("meta utf-8, bytes GBK", lambda: swap_charset(GBK_PAGE, b"utf-8"), GBK_TITLE, 2, 100),
    Case("meta gbk, bytes UTF-8", lambda: swap_charset(UTF8_PAGE, b"gbk"), UTF8_TITLE, 2, 100),
    Case("HTTP says gbk, bytes UTF-8", lambda: UTF8_PAGE, UTF8_TITLE, 2, 100, encoding="gbk"),
    Case("HTTP says utf-8, bytes GBK", lambda: GBK_PAGE, GBK_TITLE, 2, 100, encoding="utf-8"),
    # A few bytes in another encoding are replaced; more are a page in no one encoding.
    Case(
        "GBK advert in a UTF-8 page", lambda: UTF8_PAGE.replace(b"<p", "广告".encode("gbk") + b"<p", 1), "绿色", 2, 100
    ),
    Case(
        "UTF-8 and GBK halves",
        lambda: UTF8_PAGE[: len(UTF8_PAGE) // 2] + GBK_PAGE[len(GBK_PAGE) // 2 :],
        DecodeError,
        2,
        100,
    ),
    Case(
        "UTF-8 page cut inside a character",
        lambda: UTF8_PAGE[: UTF8_PAGE.rindex("。".encode()) + 1],
        UTF8_TITLE,
        2,
        100,
    ),
    Case("stray byte in a UTF-8 page", lambda: UTF8_PAGE.replace("绿色".encode(), b"\xff", 1), "绿色", 2, 100),
    Case("NUL bytes in a page", lambda: UTF8_PAGE.replace(b"</p>", b"\x00</p>"), ParseError, 2, 100),
    Case("NUL-padded page", lambda: UTF8_PAGE.replace(b">", b">\x00" * 8), DecodeError, 2, 100),
    Case("control characters", lambda: UTF8_PAGE.replace(b"</script>", b"</script>\x01\x0b\x1f"), UTF8_TITLE, 2, 100),
    Case("1 MB of random bytes", lambda: random.Random(5).randbytes(MB), DecodeError, 2, 100),
    Case("random bytes after <html>", lambda: b"<html><body>" + random.Random(6).randbytes(MB), DecodeError, 2, 100),
    Case(
        "PNG image",
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(7).randbytes(MB),
        DecodeError,
        2,
        100,
    ),
]


@dataclass(frozen=True, slots=True)
class Measured:
    outcome: Article | IngestError
    seconds: float
    cpu_seconds: float
    peak_mb: float


def _status(key: str) -> int:
    """Return a /proc/self/status memory figure in kB."""
    match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """Yield a list that receives the peak resident memory, in MB, above the level at the start."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    start = _status("VmRSS")
    result: list[float] = []
    yield result
    result.append((_status("VmHWM") - start) / 1024)


def run(case: Case) -> Measured:
    """Parse and summarise the case's page as the ingest pipeline does; measure both."""
    data = case.data()
    outcome: Article | IngestError
    with peak_memory() as peak:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            outcome = parse(data, url=URL, encoding=case.encoding)
            summarize(outcome)
        except IngestError as exc:
            outcome = exc
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return Measured(outcome, seconds, cpu_seconds, peak[0])


@pytest.fixture(scope="module")
def dictionary_loaded() -> None:
    """Load jieba's dictionary before the pages, so that no page's figures include it."""
    summarize("预热。")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.usefixtures("dictionary_loaded")
def test_hostile_page_is_bounded_and_clear(case: Case) -> None:
    measured = run(case)
    if isinstance(case.expect, str):
        assert isinstance(measured.outcome, Article), f"{type(measured.outcome).__name__}: {measured.outcome}"
        assert case.expect in measured.outcome.title + "\n" + measured.outcome.text
    else:
        assert type(measured.outcome) is case.expect, repr(measured.outcome)
        assert str(measured.outcome)
    assert measured.seconds < case.seconds
    assert measured.peak_mb < case.peak_mb


# ── an ingest run ───────────────────────────────────────────────────────────────────────

FAST = FetchConfig(connect_timeout=1, read_timeout=2, total_timeout=5, retries=0, delay=0, trust_env=False)


def as_url(target: str) -> str:
    """Return the URL an ingest run reports a target under (files as file:// URLs)."""
    return target if target.startswith("http") else Path(target).resolve().as_uri()


@pytest.mark.asyncio
async def test_ingest_run_stores_the_good_pages_and_fails_the_hostile_ones(
    tmp_path: Path, page_server: PageServer, engine: AsyncEngine
) -> None:
    files = {
        "yunnan.html": UTF8_PAGE,
        "garbage.html": random.Random(1).randbytes(64 * 1024),
        "jingzhou.txt": (SAMPLES / "jingzhou-2023-07-13.txt").read_bytes(),
        "deep.html": page("<div>" * DEPTH + "</div>" * DEPTH),
        "nul.txt": "清河县召开汛期安全生产工作会议\n会议强调，要加强安全\x00生产工作。\n".encode(),
        "empty.html": b"",
        "script.html": page("<script>var a = 1;</script>" * 1000),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with (tmp_path / "huge.html").open("wb") as huge:
        huge.truncate(50 * MB)  # sparse: refused by its size before a byte is read
    targets = [
        str(tmp_path / "yunnan.html"),
        str(tmp_path / "garbage.html"),
        str(tmp_path / "huge.html"),
        str(tmp_path / "jingzhou.txt"),
        str(tmp_path / "deep.html"),
        str(tmp_path / "nul.txt"),
        page_server.url("/garbage"),
        str(tmp_path / "empty.html"),
        page_server.url("/pages/cnr-gbk.html"),
        str(tmp_path / "script.html"),
    ]
    good = {targets[0], targets[3], targets[8]}
    empty = {targets[4], targets[9]}  # they read well and hold no article text
    sessions = make_sessionmaker(engine)
    outcomes: dict[str, str] = {}
    async with Fetcher(FAST, allow_private=[page_server.base]) as fetcher:
        tally = await ingest_targets(
            targets, fetcher=fetcher, sessions=sessions, progress=lambda url, outcome: outcomes.setdefault(url, outcome)
        )
    expected = {as_url(t): "new" if t in good else NOT_ARTICLE if t in empty else FAILED for t in targets}
    assert outcomes == expected, tally.errors
    assert (tally.counts["new"], tally.counts[NOT_ARTICLE], tally.counts[FAILED]) == (3, 2, 5)
    assert len(tally.errors) == 5
    assert any("huge.html is 50.0 MB" in error for error in tally.errors)
    async with sessions() as session:
        stored = await latest_articles(session=session, limit=20)
    assert {row.title for row in stored} == {UTF8_TITLE, "中共荆州市委六届六次全体会议举行", GBK_TITLE}


def describe(case: Case) -> str:
    """Return the case's row of the figures table."""
    size = len(case.data())
    measured = run(case)
    return (
        f"| {case.name} | {size / MB:.2f} MB | {type(measured.outcome).__name__} | {measured.seconds:.2f} | "
        f"{measured.cpu_seconds:.2f} | {measured.peak_mb:.0f} |"
    )


if __name__ == "__main__":
    # Each page runs in a child forked once the dictionary is loaded, so that heap an earlier
    # page left behind does not hide part of its peak.
    summarize("预热。")
    fork = multiprocessing.get_context("fork")
    print("| page | input | outcome | wall s | CPU s | peak MB |")
    print("|---|---:|---|---:|---:|---:|")
    for case in CASES:
        rows = fork.SimpleQueue()
        child = fork.Process(target=lambda case=case, rows=rows: rows.put(describe(case)))
        child.start()
        print(rows.get(), flush=True)
        child.join()
