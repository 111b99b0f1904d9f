"""Benchmark ingestion: pages per second through fetch → extract → summarise → store, and memory.

Usage (from the repository root)::

    .venv/bin/python -m bench.ingest [--pages 2000] [--backends sqlite,postgresql] [--corpus PATH]

A synthetic local news site (`bench/_site.py`: list pages of 100 links each, leading to
``--pages`` distinct Chinese news pages, one in four GBK) is served on 127.0.0.1 by a child
process. A child rather than a task in this process: a real site's work is not done by the bot's
process, and in-process serving would put the server's request handling on the measured event
loop and under the same GIL. The two processes share the machine's cores, so the site's CPU time
is reported beside each stage's.

First pass, one list page (100 articles) at a time; for each list page every stage runs in turn
(the order rotated from one list page to the next), so all stages see the same pages under the
same machine load:

- fetch only: discover the list page's links, `Fetcher.fetch` each article;
- fetch + parse: `fetch_article` (fetch, decode, extract);
- fetch + parse + summarise: and `summarize` in a thread, as the pipeline does;
- the whole pipeline on each backend: `bot.pipeline.ingest_source` on a fresh SQLite file and on a
  fresh PostgreSQL schema (dropped afterwards), both migrated with `storage.upgrade` first; twice
  on each, into separate databases: as newsbot runs it by default (summaries in one worker
  process, four articles in flight: ``[ingest]`` in config.example.toml) and the one-process
  way it is measured against (summaries in a thread, one article at a time). The worker's CPU
  is reported in its own column.

Fetching is impolite on purpose: ``FetchConfig(delay=0, per_host=8, retries=0, trust_env=False)``. Every
stored article must come out ``new`` (the pages are built to be no SimHash near-duplicates);
the counts are printed and checked in the database. The second pass ingests the first
``--reingest-lists`` list pages again into the same databases (default 5, i.e. 500 pages; 0 for
all): nothing changed, the site sends no ETag or Last-Modified, so every page is fetched and
parsed again and the content-hash check stops the write (``unchanged``).

In the same rotation, in-process and without HTTP, the bare per-page cost of `ingest.parse`,
`summarize`, `simhash` and the rest of what `store_article` computes, on pages of the same list
page (``--bare-pages`` in all, rebuilt byte for byte from `bench._site`), so one can see where
the time goes. Memory: the peak RSS of this process (``ru_maxrss``) and its RSS at the start,
middle and end of each pass (flat means the second half of a pass adds ~nothing).

A default run (2,000 pages, both backends) takes about 8 minutes on a 2-core machine: the four
whole-pipeline rows alone are 8,000 articles at 25-45 pages/s. ``--pages 1000`` halves it.

Output: Markdown tables on stdout; progress on stderr. Throughput per stage is the total over all
pages; the per-list-page median and p10-p90 show how noisy the machine was.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench._harness import (
    BACKEND_LABELS,
    POSTGRES_URL,
    Database,
    ServerProcesses,
    SiteProcess,
    code_version,
    cpu_seconds,
    cpu_since,
    fresh_database,
    log,
    markdown,
    migrated,
    own_cpu,
    postgres_problem,
)
from bench._site import (
    LINK_PATTERN,
    LINKS_PER_LIST,
    Pool,
    build_pool,
    list_count,
    list_path,
    site_charset,
    site_page,
)
from bot.config import IngestSettings
from bot.pipeline import Analyzer, ingest_source
from ingest import FetchConfig, Fetcher, Source, SourceKind, discover, fetch_article, parse, simhash
from storage import ArticleRecord, SummaryRecord, index_text, make_sessionmaker
from summarizer import summarize

__all__ = ["main"]

TARGET = 40.0  # pages per second, from the issue
DEFAULT_WORKERS = IngestSettings().workers
DEFAULT_IN_FLIGHT = IngestSettings().in_flight
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

Run = Callable[[Source], Awaitable[tuple[int, Counter[str]]]]


# ── measuring ───────────────────────────────────────────────────────────────────────────


def rss_mb() -> float:
    """Return this process's resident set size now, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20


def peak_rss_mb() -> float:
    """Return this process's peak resident set size so far, in MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(slots=True)
class Stage:
    """One thing measured per list page: its runner and what each list page cost."""

    name: str
    run: Run
    on_postgres: bool = False  # charge it the CPU of this benchmark's PostgreSQL backends
    walls: list[float] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    cpu: float = 0.0  # this process, every thread
    site_cpu: float = 0.0
    db_cpu: float = 0.0  # PostgreSQL backends serving this benchmark
    worker_cpu: float = 0.0  # this process's children but the site: the summarising workers
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def wall(self) -> float:
        """Return the stage's total wall time."""
        return sum(self.walls)

    @property
    def total(self) -> int:
        """Return how many article pages the stage went through."""
        return sum(self.pages)

    @property
    def rate(self) -> float:
        """Return the stage's pages per second over all list pages."""
        return self.total / self.wall if self.wall else 0.0

    @property
    def ms_per_page(self) -> float:
        """Return the stage's wall milliseconds per page."""
        return 1000 * self.wall / self.total if self.total else 0.0

    def chunk_rates(self) -> list[float]:
        """Return pages per second of each list page."""
        return [p / w for p, w in zip(self.pages, self.walls, strict=True) if w > 0]


class Meter:
    """Reads the CPU clocks a stage is charged with: ours, the site's, PostgreSQL's, the workers'."""

    def __init__(self, site_pid: int) -> None:
        self.site_pid = site_pid
        self.postgres: ServerProcesses | None = None  # this benchmark's PostgreSQL backends, when in use

    def close(self) -> None:
        """Close the PostgreSQL connection."""
        if self.postgres is not None:
            self.postgres.close()
            self.postgres = None

    def _worker_pids(self) -> list[int]:
        """Return this process's children other than the site (the summarising worker processes)."""
        me, found = str(os.getpid()), []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) != self.site_pid:
                try:
                    with open(f"/proc/{entry.name}/stat") as stat:
                        if stat.read().rpartition(")")[2].split()[1] == me:
                            found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def read(self) -> tuple[float, float, dict[int, float], dict[int, float]]:
        """Return (our CPU, the site's, each PostgreSQL backend's, each worker process's) in seconds."""
        db_pids = self.postgres.pids() if self.postgres else []
        return (
            own_cpu(),
            cpu_seconds(self.site_pid, all_threads=True),
            {pid: cpu_seconds(pid, all_threads=True) for pid in db_pids},
            {pid: cpu_seconds(pid, all_threads=True) for pid in self._worker_pids()},
        )

    async def measure(self, stage: Stage, source: Source) -> None:
        """Run a stage on one list page and charge it the time and CPU spent."""
        before = self.read()
        start = time.perf_counter()
        pages, outcomes = await stage.run(source)
        wall = time.perf_counter() - start
        after = self.read()
        stage.walls.append(wall)
        stage.pages.append(pages)
        stage.outcomes.update(outcomes)
        stage.cpu += after[0] - before[0]
        stage.site_cpu += after[1] - before[1]
        # A backend that was not there before the run started during it: all its CPU is the run's.
        if stage.on_postgres:
            stage.db_cpu += cpu_since(before[2], after[2])
        stage.worker_cpu += cpu_since(before[3], after[3])


# ── the site ────────────────────────────────────────────────────────────────────────────


def sources_of(base: str, pages: int) -> list[Source]:
    """Return one listpage source per list page of the site."""
    return [
        Source(
            name=f"基准站列表{k + 1:02d}",
            kind=SourceKind.LISTPAGE,
            url=base + list_path(k),
            link_pattern=LINK_PATTERN,
        )
        for k in range(list_count(pages))
    ]


# ── databases ───────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Backend:
    """A migrated database the pipeline stores into."""

    database: Database
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def name(self) -> str:
        """Return the backend's name (sqlite, postgresql)."""
        return self.database.backend


async def open_backend(name: str, workdir: Path, postgres_url: str) -> Backend:
    """Create an empty database (a SQLite file, a PostgreSQL schema), migrate it and connect."""
    database = fresh_database(name, workdir, postgres_url, bench="ingest")
    engine = await migrated(database)
    return Backend(database, engine, make_sessionmaker(engine))


async def stored_counts(backend: Backend) -> dict[str, int]:
    """Return how many articles, reposts and summaries the database holds."""
    async with backend.sessions() as session:
        articles = await session.scalar(select(func.count()).select_from(ArticleRecord))
        reposts = await session.scalar(
            select(func.count()).select_from(ArticleRecord).where(ArticleRecord.duplicate_of_id.is_not(None))
        )
        summaries = await session.scalar(select(func.count()).select_from(SummaryRecord))
    return {"articles": articles or 0, "reposts": reposts or 0, "summaries": summaries or 0}


# ── stages ──────────────────────────────────────────────────────────────────────────────


def fetch_only(fetcher: Fetcher) -> Run:
    """Discover the list page's links and fetch each article."""

    async def run(source: Source) -> tuple[int, Counter[str]]:
        urls = await discover(source, fetcher, limit=LINKS_PER_LIST)
        for url in urls:
            await fetcher.fetch(url)
        return len(urls), Counter(fetched=len(urls))

    return run


def fetch_parse(fetcher: Fetcher, *, summarise: bool) -> Run:
    """Discover, then fetch and parse each article (and summarise it in a thread, as the pipeline does)."""

    async def run(source: Source) -> tuple[int, Counter[str]]:
        urls = await discover(source, fetcher, limit=LINKS_PER_LIST)
        for url in urls:
            fetched = await fetch_article(url, fetcher, encoding=source.encoding, tz=ZoneInfo(source.timezone))
            if summarise and fetched.article is not None:
                await asyncio.to_thread(summarize, fetched.article)
        return len(urls), Counter(parsed=len(urls))

    return run


@dataclass(frozen=True, slots=True)
class Variant:
    """How the pipeline runs: where articles are summarised and how many are in flight."""

    label: str
    analyzer: Analyzer
    in_flight: int


def pipeline(fetcher: Fetcher, backend: Backend, variant: Variant) -> Run:
    """Run `ingest_source` on the list page into the backend."""

    async def run(source: Source) -> tuple[int, Counter[str]]:
        tally = await ingest_source(
            source,
            fetcher=fetcher,
            sessions=backend.sessions,
            limit=LINKS_PER_LIST,
            analyzer=variant.analyzer,
            in_flight=variant.in_flight,
        )
        for error in tally.errors[:3]:
            log(f"  {backend.name}: {error}")
        return tally.total, tally.counts

    return run


async def run_pass(
    meter: Meter, stages: Sequence[Stage], sources: Sequence[Source], label: str
) -> tuple[float, float, float]:
    """Run every stage on every list page, rotating their order; return RSS (MiB) at start, middle, end."""
    start_rss = rss_mb()
    middle_rss = start_rss
    started = time.perf_counter()
    half = (len(sources) + 1) // 2
    for k, source in enumerate(sources):
        shift = k % len(stages)
        for stage in [*stages[shift:], *stages[:shift]]:
            await meter.measure(stage, source)
        if k + 1 == half:
            middle_rss = rss_mb()
        log(f"{label}: list page {k + 1}/{len(sources)} done, {time.perf_counter() - started:.0f} s")
    return start_rss, middle_rss, rss_mb()


# ── bare costs ──────────────────────────────────────────────────────────────────────────


COST_STEPS = (
    "ingest.parse (decode + extract)",
    "summarize",
    "simhash",
    "index_text (jieba, for search_text)",
    "content_hash (NFKC + SHA-256)",
    "zlib.compress (raw_html)",
    "Summary.to_dict + json.dumps",
)


def bare_costs(pages: int, per_list: int, pool: Pool, costs: dict[str, list[float]]) -> Run:
    """Time, in-process and without HTTP, what the pipeline computes for pages of the list page.

    `per_list` pages of each list page, chosen by a seeded RNG, are rebuilt byte for byte (not
    timed) and put through each step; the milliseconds are appended to `costs`.
    """
    timer = time.perf_counter

    async def run(source: Source) -> tuple[int, Counter[str]]:
        k = int(source.url.rsplit("_", 1)[1].split(".")[0])
        first, last = k * LINKS_PER_LIST, min((k + 1) * LINKS_PER_LIST, pages)
        chosen = sorted(random.Random(k).sample(range(first, last), min(per_list, last - first)))
        for i in chosen:
            page = site_page(i, pages, pool)
            t0 = timer()
            article = parse(page.body, url="http://127.0.0.1" + page.path, encoding=page.charset)
            t1 = timer()
            summary = summarize(article)
            t2 = timer()
            simhash(article.text)
            t3 = timer()
            index_text(article.title, article.paragraphs)
            t4 = timer()
            _ = article.content_hash
            t5 = timer()
            zlib.compress(page.body)
            t6 = timer()
            json.dumps(summary.to_dict())
            t7 = timer()
            for name, seconds in zip(
                COST_STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6), strict=True
            ):
                costs.setdefault(name, []).append(1000 * seconds)
        return len(chosen), Counter(timed=len(chosen))

    return run


# ── output ──────────────────────────────────────────────────────────────────────────────


def spread(values: Sequence[float]) -> str:
    """Return 'median (p10-p90)' of per-list-page values."""
    if not values:
        return "-"
    if len(values) < 2:
        return f"{values[0]:.1f}"
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return f"{statistics.median(values):.1f} ({deciles[0]:.1f}-{deciles[8]:.1f})"


def stage_rows(stages: Sequence[Stage], baseline: Stage | None, previous_of: dict[str, Stage]) -> list[list[object]]:
    """Return one table row per stage."""
    rows: list[list[object]] = []
    for stage in stages:
        total = max(stage.total, 1)
        previous = previous_of.get(stage.name)
        delta = f"+{stage.ms_per_page - previous.ms_per_page:.1f}" if previous else "-"
        ratio = f"{stage.wall / baseline.wall:.2f}x" if baseline and baseline.wall else "-"
        rows.append(
            [
                stage.name,
                stage.total,
                f"{stage.wall:.1f}",
                f"**{stage.rate:.1f}**",
                spread(stage.chunk_rates()),
                f"{stage.ms_per_page:.1f}",
                delta,
                ratio,
                f"{1000 * stage.cpu / total:.1f}",
                f"{total / stage.cpu:.0f}" if stage.cpu > 0 else "-",
                f"{1000 * stage.worker_cpu / total:.1f}" if stage.worker_cpu else "-",
                f"{1000 * stage.site_cpu / total:.1f}",
                f"{1000 * stage.db_cpu / total:.1f}" if stage.db_cpu else "-",
            ]
        )
    return rows


STAGE_HEADERS = (
    "stage",
    "pages",
    "wall s",
    "pages/s",
    "pages/s per list page: median (p10-p90)",
    "ms/page",
    "Δ ms/page",
    "time vs fetch only",
    "bench CPU ms/page",
    "pages/s if bench CPU were all",
    "worker CPU ms/page",
    "site CPU ms/page",
    "PostgreSQL CPU ms/page",
)


# ── main ────────────────────────────────────────────────────────────────────────────────


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="article pages on the site (default 2000)")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql (default both)"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="govnews/articles.jsonl: more sentences for pages")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="PostgreSQL server (a schema is created in it)")
    parser.add_argument(
        "--bare-pages", type=int, default=500, help="pages (spread over the site) for the in-process costs"
    )
    parser.add_argument(
        "--reingest-lists", type=int, default=5, help="list pages the second pass re-ingests (default 5; 0: all)"
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKEND_LABELS]
    if unknown or args.pages < 1:
        parser.error(f"unknown backend(s) {unknown}" if unknown else "--pages must be at least 1")
    if args.corpus is not None and not args.corpus.is_file():
        parser.error(f"{args.corpus} is not a file")
    args.backends = backends
    return args


async def run(args: argparse.Namespace) -> None:
    """Run the benchmark and print its tables."""
    began = time.perf_counter()
    notes: list[str] = []
    names = list(args.backends)
    if "postgresql" in names and (problem := postgres_problem(args.postgres_url)) is not None:
        notes.append(f"{problem}: PostgreSQL rows skipped.")
        names.remove("postgresql")

    pool = build_pool(args.corpus)
    # The jieba dictionary loads on first use; load it before anything is timed.
    summarize(parse(site_page(0, args.pages, pool).body))
    index_text("预热", ["加载分词词典。"])
    gc.collect()

    config = FetchConfig(delay=0, per_host=8, retries=0, trust_env=False)
    async with SiteProcess(args.pages, corpus=args.corpus) as site:
        with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
            base, site_pid = site.bases[0], site.pid
            workdir = Path(tmp)
            sources = sources_of(base, args.pages)
            # The pipeline as it was (summarised in a thread, one article at a time) and as `newsbot`
            # runs it by default ([ingest] workers = 1, in_flight = 4), each into its own database.
            variants = [
                Variant("thread, 1 in flight", Analyzer(0), 1),
                Variant(
                    f"{DEFAULT_WORKERS} worker process, {DEFAULT_IN_FLIGHT} in flight",
                    Analyzer(DEFAULT_WORKERS),
                    DEFAULT_IN_FLIGHT,
                ),
            ]
            default = variants[-1]
            backends: list[tuple[Backend, Variant]] = []
            meter = Meter(site_pid)
            try:
                for name in names:
                    for variant in variants:
                        backends.append((await open_backend(name, workdir, args.postgres_url), variant))
                meter.postgres = next((b.database.monitor() for b, _ in backends if b.name == "postgresql"), None)
                # Start the worker processes and load their dictionary before anything is timed.
                await default.analyzer(parse(site_page(0, args.pages, pool).body))
                async with Fetcher(config, allow_private=[base]) as fetcher:  # the local site, as a source naming it
                    await discover(sources[0], fetcher)  # one request before timing: connection set up
                    fetch_stage = Stage("fetch only", fetch_only(fetcher))
                    parse_stage = Stage("fetch + parse", fetch_parse(fetcher, summarise=False))
                    summary_stage = Stage("fetch + parse + summarise", fetch_parse(fetcher, summarise=True))
                    store_stages = [
                        Stage(
                            f"whole pipeline, {BACKEND_LABELS[b.name]}, {v.label}",
                            pipeline(fetcher, b, v),
                            b.name == "postgresql",
                        )
                        for b, v in backends
                    ]
                    per_list = min(-(-max(args.bare_pages, 0) // len(sources)), LINKS_PER_LIST)
                    costs: dict[str, list[float]] = {}
                    cost_stage = Stage("in-process costs", bare_costs(args.pages, per_list, pool, costs))
                    first = [fetch_stage, parse_stage, summary_stage, *store_stages]
                    if per_list:
                        first.append(cost_stage)
                    rss1 = await run_pass(meter, first, sources, "first pass")
                    counts = {f"{b.name}, {v.label}": await stored_counts(b) for b, v in backends}
                    second = [
                        Stage(
                            f"re-ingest, {BACKEND_LABELS[b.name]}, {v.label}",
                            pipeline(fetcher, b, v),
                            b.name == "postgresql",
                        )
                        for b, v in backends
                        if v is default
                    ]
                    again = sources[: args.reingest_lists] if args.reingest_lists > 0 else sources
                    rss2 = await run_pass(meter, second, again, "second pass") if second else None
                    peak = peak_rss_mb()
            finally:
                meter.close()
                for variant in variants:
                    variant.analyzer.close()
                for backend, _ in backends:
                    await backend.engine.dispose()
                    await asyncio.to_thread(backend.database.drop)
            site_cpu = cpu_seconds(site_pid, all_threads=True)
    elapsed = time.perf_counter() - began

    # A stride prime to the one-in-four GBK pages, so that the sample has them in their share.
    sample = [site_page(i, args.pages, pool) for i in range(0, args.pages, 7)]
    gbk = [i for i in range(args.pages) if site_charset(i) != "utf-8"]
    print("# Ingest benchmark\n")
    print(
        f"{args.pages} article pages behind {len(sources)} list page{'s' if len(sources) > 1 else ''} "
        "on 127.0.0.1 (a child process), "
        f"{len(gbk)} of them GBK ({sum(site_charset(i) is None for i in gbk)} labelled only by <meta>), "
        f"{statistics.mean(len(p.body) for p in sample) / 1024:.1f} KiB per page on average; sentences from "
        f"ingest/samples{' and ' + str(args.corpus) if args.corpus else ''} ({len(pool.sentences)} sentences, "
        f"{len(pool.clauses)} clauses). Fetching: delay=0, retries=0, per_host=8. "
        f"{code_version()}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs. "
        f"Whole run {elapsed:.0f} s; the site process used "
        f"{site_cpu:.1f} CPU s in all.\n"
    )
    for note in notes:
        print(f"> {note}\n")

    print("## First pass: stages side by side (same pages, stage order rotated per list page)\n")
    previous = {parse_stage.name: fetch_stage, summary_stage.name: parse_stage}
    previous |= {stage.name: summary_stage for stage in store_stages}
    print(
        markdown(
            STAGE_HEADERS,
            stage_rows([fetch_stage, parse_stage, summary_stage, *store_stages], fetch_stage, previous),
            aligned=False,
        )
    )
    print(
        "Δ ms/page: over the stage before it (the pipeline rows: over fetch + parse + summarise). "
        "CPU columns: this process (all threads, SQLite included), the site process, and the "
        "PostgreSQL backends serving this benchmark. Wall times move with whatever else the machine "
        "runs; this process's CPU time per page hardly does, and 1000 / it is the most pages/s the "
        "stage could reach with no waiting at all (this process is one event loop, mostly under one GIL).\n"
    )

    if second:
        print(
            f"## Second pass: re-ingest the unchanged site, {len(again)} of {len(sources)} list pages "
            "(no validators sent; the content-hash check avoids the writes)\n"
        )
        rows = []
        firsts = [st for st, (_, v) in zip(store_stages, backends, strict=True) if v is default]
        for stage, store in zip(second, firsts, strict=True):
            rows.append(
                [
                    stage.name,
                    stage.total,
                    f"{stage.wall:.1f}",
                    f"**{stage.rate:.1f}**",
                    spread(stage.chunk_rates()),
                    f"{stage.ms_per_page:.1f}",
                    f"{stage.ms_per_page / store.ms_per_page:.2f}x" if store.ms_per_page else "-",
                    f"{1000 * stage.cpu / max(stage.total, 1):.1f}",
                    f"{1000 * stage.db_cpu / max(stage.total, 1):.1f}" if stage.db_cpu else "-",
                    ", ".join(f"{k} {v}" for k, v in sorted(stage.outcomes.items())),
                ]
            )
        print(
            markdown(
                (
                    "pass",
                    "pages",
                    "wall s",
                    "pages/s",
                    "pages/s per list page: median (p10-p90)",
                    "ms/page",
                    "ms/page vs first pass",
                    "bench CPU ms/page",
                    "PostgreSQL CPU ms/page",
                    "outcomes",
                ),
                rows,
                aligned=False,
            )
        )

    if backends:
        print("## What was stored (first pass)\n")
        rows = []
        for stage, (backend, variant) in zip(store_stages, backends, strict=True):
            stored = counts[f"{backend.name}, {variant.label}"]
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(stage.outcomes.items()))
            ok = stage.outcomes["new"] == args.pages == stored["articles"] == stored["summaries"]
            rows.append(
                [
                    f"{BACKEND_LABELS[backend.name]}, {variant.label}",
                    outcomes,
                    stored["articles"],
                    stored["reposts"],
                    stored["summaries"],
                    "yes" if ok else "**NO**",
                ]
            )
        headers = ("backend", "outcomes", "article rows", "reposts", "summaries", f"all {args.pages} new")
        print(markdown(headers, rows, aligned=False))
        verdicts = [
            f"{BACKEND_LABELS[b.name]} {s.rate:.1f} pages/s ({'met' if s.rate >= TARGET else 'not met'})"
            for (b, v), s in zip(backends, store_stages, strict=True)
            if v is default
        ]
        print(f"**Target ≥ {TARGET:.0f} pages/s through the whole pipeline:** {'; '.join(verdicts)}.\n")

    bare_count = len(costs.get(COST_STEPS[0], []))
    if bare_count:
        print(
            f"## In-process cost per page, no HTTP ({bare_count} of the same pages, {per_list} per list page, "
            "timed in the same rotation as the stages above)\n"
        )
        total = sum(statistics.mean(v) for v in costs.values())
        rows = [
            [
                name,
                f"{statistics.mean(v):.2f}",
                f"{statistics.median(v):.2f}",
                f"{statistics.quantiles(v, n=20, method='inclusive')[18]:.2f}" if len(v) > 1 else "-",
                f"{100 * statistics.mean(v) / total:.0f}%",
            ]
            for name, v in costs.items()
        ]
        rows.append(["sum", f"{total:.2f}", "", "", "100%"])
        print(markdown(("step", "mean ms", "median ms", "p95 ms", "share"), rows, aligned=False))
        print(
            f"These steps alone cap one-at-a-time ingestion at about {1000 / total:.0f} pages/s "
            "(one core, before any HTTP or database work).\n"
        )

    print("## Memory (this process)\n")
    rows = [["first pass", *_rss_cells(rss1)]]
    if rss2 is not None:
        rows.append(["second pass", *_rss_cells(rss2)])
    print(
        markdown(
            ("pass", "RSS at start MiB", "middle MiB", "end MiB", "1st half growth MiB", "2nd half growth MiB"),
            rows,
            aligned=False,
        )
    )
    print(f"Peak RSS (ru_maxrss) over the timed passes: **{peak:.0f} MiB**.\n")


def _rss_cells(rss: tuple[float, float, float]) -> list[str]:
    start, middle, end = rss
    return [f"{start:.0f}", f"{middle:.0f}", f"{end:.0f}", f"{middle - start:+.1f}", f"{end - middle:+.1f}"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ingest benchmark (see the module docstring)."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
