"""What storing an article costs in CPU: its summary, its search words and its SimHash, off the event loop.

The summariser is mostly pure Python, so in a thread it holds the GIL the event loop needs
for fetching, parsing and the database: a second core helps only from another process. With
``workers`` ≥ 1 the work goes to that many worker processes (started on first use, each loading
the dictionaries once), and the ingest pipeline keeps several articles in flight so both sides
stay busy. ``workers=0`` keeps it in a thread of this process: no start-up cost, for tests and
one-off commands.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from ingest import Article, simhash
from storage import index_text
from summarizer import Summary, summarize

__all__ = ["Analysis", "Analyzer", "analyze"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything `store_article` needs that takes CPU to compute."""

    summary: Summary
    search_text: str
    simhash: int


def analyze(article: Article) -> Analysis:
    """Summarise, segment for search and fingerprint one article."""
    return Analysis(summarize(article), index_text(article.title, article.paragraphs), simhash(article.text))


def _warm() -> None:
    """Load the segmenter and the word frequencies as a worker starts, not on its first article."""
    analyze(Article(title="预热", paragraphs=["预热。"]))


class Analyzer:
    """Run `analyze` in `workers` worker processes, or in a thread of this process when `workers` is 0."""

    def __init__(self, workers: int = 0) -> None:
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, not {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, article: Article) -> Analysis:
        """Return the article's analysis."""
        if self.workers == 0:
            return await asyncio.to_thread(analyze, article)
        if self._pool is None:
            # spawn, not fork: this process runs threads (aiosqlite, the resolver) a fork would copy mid-lock.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, analyze, article)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this article fails its run, the next ones get a new pool.
            logger.error("a summarising worker process died; starting new ones")
            self.close()
            raise

    def close(self) -> None:
        """Stop the worker processes (new ones start if the analyzer is used again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
