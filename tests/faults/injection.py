"""What the fault tests share: a generated news site whose page requests are countable events,
SQLite files that another writer locks or whose disk fills up, PostgreSQL connections cut from the
server side, outbox broadcasts, and the checks that nothing is half-stored, lost or sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import random
import re
import sqlite3
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot

from bot.delivery import OutboxSender
from bot.emulator import BotAPIEmulator, Sent
from bot.ratelimit import RateLimiter
from ingest import Source, SourceKind, parse
from storage import (
    ArticleRecord,
    FetchState,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    SummaryRecord,
    bind_channel,
    enqueue,
    make_engine,
    make_sessionmaker,
    pending_count,
    upgrade,
)
from tests.databases import POSTGRES_URL

SAMPLES = Path(__file__).parents[2] / "ingest" / "samples"
# The rows one sender claims at a time.
BATCH = inspect.signature(OutboxSender).parameters["batch"].default
# OutboxSender.window: the rows a killed sender held claimed, or had sent and not yet recorded.
WINDOW = 2 * BATCH
ARTICLES = 12  # pages on the generated site
CHANNEL = -1_000_000_777_001  # a bound channel: each new article enqueues a post to it
# The busy timeout of the SQLite tests: short enough to wait out, long enough that the bot's own
# writers never give up on each other on a loaded machine.
BUSY_TIMEOUT = 0.75


@contextlib.asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Migrate the database at `url` and yield sessions on it."""
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


# ---- a news site -------------------------------------------------------------------------------


@cache
def _sentences() -> tuple[str, ...]:
    """Return the sentences of the sample articles: the material generated pages are made of."""
    found: list[str] = []
    for path in sorted(SAMPLES.glob("*.*")):
        if path.suffix in (".html", ".txt"):
            for paragraph in parse(path.read_bytes()).paragraphs:
                found += [s for s in re.split(r"(?<=。)", paragraph) if len(s) > 15]
    return tuple(found)


@cache
def article_page(number: int) -> bytes:
    """Return a news page, the same for a number every time, its text far from every other's."""
    rng = random.Random(number)
    paragraphs = "".join(f"<p>{''.join(rng.sample(_sentences(), 3))}</p>" for _ in range(5))
    return (
        f'<html><head><meta charset="utf-8"><title>清河县第{number}号通报</title></head><body>'
        f'<div class="article"><h1>清河县第{number}号通报</h1>'
        f'<div class="info">来源：清河日报 2024-06-{number % 28 + 1:02d} 09:00</div>{paragraphs}</div></body></html>'
    ).encode()


@dataclass
class NewsSite:
    """A list page linking `count` article pages, with ETags; every page request is an event."""

    count: int = ARTICLES
    base: str = ""
    served: list[int] = field(default_factory=list)  # page numbers in request order
    on_page: Callable[[int], object] | None = None  # called with n as the n-th page request arrives

    def url(self, path: str) -> str:
        return self.base + path

    def source(self) -> Source:
        return Source(name="清河日报", kind=SourceKind.LISTPAGE, url=self.url("/list.html"), link_pattern=r"/news/\d+")

    def config(self) -> str:
        """Return the TOML of a config with this site as its one source."""
        return (
            f'[[sources]]\nname = "清河日报"\nkind = "listpage"\nurl = "{self.url("/list.html")}"\n'
            'link_pattern = "/news/\\\\d+"\ninterval = 60\n'
        )

    def urls(self) -> set[str]:
        return {self.url(f"/news/{n}.html") for n in range(self.count)}

    async def _list(self, request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="/news/{n}.html">第{n}号通报</a></li>' for n in range(self.count))
        return web.Response(text=f"<html><body><ul>{links}</ul></body></html>", content_type="text/html")

    async def _page(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        self.served.append(number)
        if self.on_page is not None and inspect.isawaitable(done := self.on_page(len(self.served))):
            await done  # the page is answered once the fault is in place
        etag = f'"{number}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=article_page(number), content_type="text/html", charset="utf-8", headers={"ETag": etag}
        )


@pytest_asyncio.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    site = NewsSite()
    app = web.Application()
    app.add_routes([web.get("/list.html", site._list), web.get(r"/news/{number:\d+}.html", site._page)])
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield site
    finally:
        await runner.cleanup()


# ---- what must hold after any fault ------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the database holds of the site, once every check passed."""

    articles: dict[str, int]  # url → id
    channel_posts: Counter[str]  # outbox key (article id) → rows


async def check_whole(sessions: async_sessionmaker[AsyncSession], channels: int = 1) -> Stored:
    """Check that every stored article is whole; return what is stored.

    Whole: an original has its summary, its search text and (on SQLite) its FTS5 entry, its fetch
    state, and one channel post per bound channel; a fetch state that claims a fresh fetch has its
    article (else the next run's conditional GET would get a 304 and skip it for good).
    """
    async with sessions() as session:
        rows = (await session.execute(select(ArticleRecord.url, ArticleRecord.id, ArticleRecord.search_text))).all()
        articles = {url: article_id for url, article_id, _ in rows}
        summarised = set((await session.execute(select(SummaryRecord.article_id))).scalars())
        fetched = set((await session.execute(select(FetchState.url).where(FetchState.last_error.is_(None)))).scalars())
        posts = Counter(
            (await session.execute(select(OutboxRow.key).where(OutboxRow.kind == OutboxKind.CHANNEL_POST))).scalars()
        )
        assert [url for url, article_id in articles.items() if article_id not in summarised] == []
        assert [url for url, _, search_text in rows if not search_text] == []
        assert sorted(fetched ^ set(articles)) == []
        assert posts == Counter({str(article_id): channels for article_id in articles.values()})
        if session.get_bind().dialect.name == "sqlite":
            assert (await session.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
            # rank 1: compare the index with the articles it was built from, row by row.
            await session.execute(text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"))
            await session.rollback()
    return Stored(articles, posts)


async def bind_test_channel(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await bind_channel(session=session, chat_id=CHANNEL, title="清河快讯", bound_by=1)


# ---- the outbox --------------------------------------------------------------------------------

DIGEST = {"parts": [{"text": "<b>今日要闻</b> 第1部分"}, {"text": "<b>今日要闻</b> 第2部分"}]}
ANNOUNCEMENT = {"parts": [{"text": "<b>公告</b>：系统维护通知"}]}
DIGEST_TEXTS = [part["text"] for part in DIGEST["parts"]]
# What every chat must end up with, each exactly once: a digest in two parts and an announcement.
EXPECTED = [*DIGEST_TEXTS, ANNOUNCEMENT["parts"][0]["text"]]


def chats(count: int, first: int = 200_001) -> list[int]:
    return list(range(first, first + count))


async def enqueue_broadcasts(
    sessions: async_sessionmaker[AsyncSession], chat_ids: list[int], *, digest: bool = True
) -> int:
    """Enqueue a two-part digest (unless `digest` is False) and an announcement for every chat."""
    async with sessions.begin() as session:
        added = 0
        if digest:
            added += await enqueue(
                session=session, kind=OutboxKind.DIGEST, key="2026-11-28", chat_ids=chat_ids, payload=DIGEST
            )
        added += await enqueue(
            session=session, kind=OutboxKind.ANNOUNCEMENT, key="1", chat_ids=chat_ids, payload=ANNOUNCEMENT
        )
    return added


def received(emulator: BotAPIEmulator) -> Counter[int]:
    """Return how many messages each chat received."""
    return Counter(sent.chat_id for sent in emulator.sent if sent.method == "sendMessage")


def texts_by_chat(emulator: BotAPIEmulator, chat_ids: Iterable[int]) -> dict[int, list[str | None]]:
    return {chat_id: [sent.text for sent in emulator.messages_to(chat_id)] for chat_id in chat_ids}


async def open_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await pending_count(session=session)


async def rows_by_status(sessions: async_sessionmaker[AsyncSession]) -> dict[OutboxStatus, int]:
    async with sessions() as session:
        stmt = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        return dict((await session.execute(stmt)).tuples().all())


async def chats_in(sessions: async_sessionmaker[AsyncSession], status: OutboxStatus) -> set[int]:
    async with sessions() as session:
        stmt = select(OutboxRow.chat_id).where(OutboxRow.status == status)
        return set((await session.execute(stmt)).scalars())


async def wait_until(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    """Poll `condition` (a function, or one returning an awaitable) until it is true."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = condition()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def repeats(emulator: BotAPIEmulator, chat_ids: Iterable[int], expected: list[str] = EXPECTED) -> Counter[int]:
    """Return how many messages each chat got more than once, after checking that every chat got
    every expected message and nothing else, a digest's parts in order (rows are independent:
    an announcement may overtake a digest that waits for its retry)."""
    extra: Counter[int] = Counter()
    for chat_id, got in texts_by_chat(emulator, chat_ids).items():
        assert sorted(set(got)) == sorted(expected), f"chat {chat_id} got {got}"
        digest = [text for text in dict.fromkeys(got) if text in DIGEST_TEXTS]
        assert digest in ([], DIGEST_TEXTS), f"chat {chat_id} got the digest's parts out of order: {got}"
        extra[chat_id] = len(got) - len(expected)
    return +extra


def make_sender(bot: Bot, sessions: async_sessionmaker[AsyncSession], **options: Any) -> OutboxSender:
    """Return the real sender without the global cap or per-chat pacing (a digest's parts go at once)."""
    return OutboxSender(bot, sessions, RateLimiter(global_rate=None, private_rate=1000), **options)


@contextlib.asynccontextmanager
async def sending(sender: OutboxSender) -> AsyncIterator[asyncio.Task[Any]]:
    """Run the sender's loop for the duration of the block, then stop it and wait for it."""
    task = asyncio.create_task(sender.run(poll=0.05))
    try:
        yield task
    finally:
        sender.stop()
        await asyncio.wait_for(task, timeout=15)


@contextlib.contextmanager
def at_sends(emulator: BotAPIEmulator, actions: dict[int, Callable[[], Awaitable[object]]]) -> Iterator[list[object]]:
    """Run `actions[n]` once the emulator has recorded n sendMessage calls; yield their results."""
    results: list[object] = []

    async def watch(queue: asyncio.Queue[Sent]) -> None:
        count = 0
        while True:
            if (await queue.get()).method == "sendMessage":
                count += 1
                if count in actions:
                    results.append(await actions[count]())

    with emulator.watch() as queue:
        watcher = asyncio.create_task(watch(queue))
        try:
            yield results
        finally:
            watcher.cancel()


# ---- SQLite faults -----------------------------------------------------------------------------


class SQLiteFault(Protocol):
    """Something done to a SQLite file from outside the bot, until undone."""

    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class WriteLock:
    """Another connection holding BEGIN EXCLUSIVE on the file: no one else may write, or (under
    the bot's BEGIN IMMEDIATE) even begin a transaction, until it lets go."""

    path: Path
    name: str = "locked"
    _taking: asyncio.Future[sqlite3.Connection] | None = None

    async def start(self) -> None:
        def take() -> sqlite3.Connection:
            holder = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN EXCLUSIVE")  # waits for the bot's own write to end
            return holder

        self._taking = asyncio.ensure_future(asyncio.to_thread(take))
        await self._taking

    async def stop(self) -> None:
        if self._taking is not None:
            holder = await self._taking  # a lock still being taken is released once it is held
            self._taking = None
            holder.execute("ROLLBACK")
            holder.close()


@dataclass
class FullDisk:
    """The file system the database lives on filled to the last block by another file."""

    path: Path
    name: str = "full"

    @property
    def filler(self) -> Path:
        return self.path.parent / "filler"

    async def start(self) -> None:
        def fill() -> None:
            # Empty the WAL first: SQLite reuses WAL space it already has, which would hide a full disk.
            with contextlib.closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as connection:
                busy, *_ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                assert busy == 0, "a reader kept the WAL from being emptied"
            # ENOSPC ends the loop: full, as intended.
            with self.filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * 4096)
            assert os.statvfs(self.path.parent).f_bavail == 0

        await asyncio.to_thread(fill)

    async def stop(self) -> None:
        self.filler.unlink(missing_ok=True)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `where`; skip, with the reason, where mounting is not permitted."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs for the full-disk test needs mount privileges: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)


@pytest.fixture(params=["locked", "full"])
def sqlite_fault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, SQLiteFault]]:
    """Yield the URL of a SQLite file (busy timeout BUSY_TIMEOUT) and a fault to inflict on it.

    "locked": another connection holds BEGIN EXCLUSIVE. "full": a 16 MB tmpfs, filled up by
    another file (a real ENOSPC, so SQLite answers SQLITE_FULL or SQLITE_IOERR).
    """
    # The pysqlite dialect passes the URL's timeout to sqlite3.connect: the busy timeout, in seconds.
    if request.param == "locked":
        path = tmp_path / "newsbot.db"
        yield f"sqlite:///{path}?timeout={BUSY_TIMEOUT}", WriteLock(path)
        return
    with tmpfs(tmp_path / "disk", "16m") as disk:
        path = disk / "newsbot.db"
        yield f"sqlite:///{path}?timeout={BUSY_TIMEOUT}", FullDisk(path)


# ---- PostgreSQL --------------------------------------------------------------------------------


# MATERIALIZED: the victims are chosen first, so no other client's process is ever terminated.
_CUT = (
    "WITH victims AS MATERIALIZED (SELECT pid, query FROM pg_stat_activity WHERE application_name = %s)"
    " SELECT query FROM victims WHERE pg_terminate_backend(pid)"
)
_CUT_IN_TRANSACTION = (
    "WITH victims AS MATERIALIZED (SELECT pid, query FROM pg_stat_activity"
    " WHERE application_name = %s AND xact_start IS NOT NULL)"
    " SELECT query FROM victims WHERE pg_terminate_backend(pid)"
)


def with_application_name(url: str) -> tuple[str, str]:
    """Return `url` naming its connections with a name of their own, and that name."""
    name = f"newsbot-faults-{uuid.uuid4().hex[:12]}"
    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False), name


async def cut_connections(application_name: str, *, in_transaction: bool = False) -> list[str]:
    """Terminate the server processes of connections named `application_name`, as a server restart
    does to its clients; with `in_transaction`, only those inside a transaction. Return the
    statement each was running (or had run last)."""
    admin = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as connection:
        cursor = await connection.execute(_CUT_IN_TRANSACTION if in_transaction else _CUT, (application_name,))
        return [str(query) for (query,) in await cursor.fetchall()]
