"""Soak: the whole bot for ten minutes under ingest, digests and users' commands, minute by minute.

Usage (from the repository root)::

    .venv/bin/python bench/soak.py [--minutes 10] [--subscribers 50000] [--sources 20] [--users 200]
                                   [--backend sqlite|postgresql]

The issue: "a 10-minute run against the emulator and a local news server: 50,000 subscribers, ingest
every minute from 20 sources, 200 users sending commands: memory stays flat, p99 command latency and
the outbox backlog are reported every minute."

Four processes, so that the bot's memory and CPU are its own:

- the bot: ``python -m bot run --config soak.toml``, exactly what ``newsbot run`` starts (the
  Application long-polling, the APScheduler ingest and digest jobs, the OutboxSender), with the
  default settings but for these: the Bot API URL (the emulator), the database, ``[delivery] rate``
  (``--rate``, default the bot's own 25/s) and ``--sources`` list-page sources ingested every minute;
- the Bot API emulator (`bench/_bot.py`), which records every message the bot sends;
- the news site (`bench/_site.py` with ``--sources``): source k is a list page on 127.0.0.{k+1}
  (a host of its own, so the fetcher's default politeness, 1 s between requests and 2 at once per
  host, applies per source as with real sites) showing its ``--links`` newest articles; each starts
  with ``--initial`` and gains ``--new-per-minute`` every minute, a few seconds before the bot's
  ingest jobs come round. Pages send no ETag, so every run fetches and parses every listed page again
  (the stored content hash then spares the write);
- this process: the database set-up, the simulated users and the measurements.

Set-up: a fresh SQLite file (or, with ``--backend postgresql``, a fresh schema) migrated, then
``--subscribers`` private chats subscribed with `storage.subscribe` (pages of 1,000 a transaction).
Digests: ``--digests-per-minute`` of them get a digest time (minute precision, their local time) at
each of ``--minutes`` minute boundaries, and the bot is started about 10 s before the first, so that
each minute of the run has its digests; the others' digest time is two hours ago, so they are not
due during the run. The bot's digest job (every 30 s) finds the due ones and enqueues them (one
transaction each: articles since subscribing, rendered, enqueued); the sender sends them at the
cap. The default is 60 % of what the cap carries (``rate`` x 60 a minute; a digest of ten
articles is one message), so the outbox works all the time and still catches up; with ``--rate 0``
(no cap) every subscriber's digest falls within the run.

Users: ``--users`` private chats (not subscribers, so every message to them is a command's reply)
each send a command, wait for its reply (at most ``--reply-timeout``), think for an exponentially
distributed time (mean ``--think`` s) and send the next: /summary, /latest, /search <a headline word>,
/summary <id>, /full <id> (30/25/20/15/10 %). Latency is the emulator's clock from the update being
queued to the reply being recorded (getUpdates, PTB, the handler's queries, sendMessage), as in
`bench/commands.py`. A reply that is the bot's "sorry" message counts as an error.

Every minute (from the moment the bot polls): the bot process's RSS (VmRSS) and CPU (all threads),
commands answered in the minute with p50/p99 latency, the outbox backlog (rows pending or sending),
messages the emulator received for subscribers in the minute, and articles stored. After
``--minutes``: the users stop, the bot gets up to ``--drain`` s to enqueue every due digest and send
its backlog, then SIGTERM (a clean shutdown is part of the test) and the books are closed:

- memory flat: RSS at the last minute within ``--rss-tolerance`` % of minute 2's (minute 1 holds
  the first ingest of every source, the summariser's dictionaries and the caches warming up);
- nothing lost: every due digest enqueued, every outbox row sent, blocked or failed (still queued
  ones are counted), and each sent row's message ids are the ones the emulator recorded in that chat;
- duplicates: messages the emulator recorded more than once per (chat, text), and messages it
  recorded that no sent row accounts for;
- the bot's log: errors while running and after SIGTERM (each with the exception its traceback ends
  in), and its exit status.

The benchmark's own counts read the database without getting in the bot's way (on SQLite through
the driver's deferred transactions: no write lock).

Limits: everything runs on one machine, so the site, the emulator and this process take CPU the bot
would have to itself in production; the emulator answers in about a millisecond, where Telegram is a
network round trip away (`bench/delivery.py --latency`); users press no buttons and ask for no URL
(/summary URL fetches on demand); replies to commands are sent directly, not through the outbox,
so a lost reply shows as an unanswered command, not in the outbox's books.

Output: each minute's row on stderr as it comes, then the Markdown tables and the verdict on stdout.
The machine is shared: the load average before the run is printed; CPU % is of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bench._bot import TOKEN, EmulatorProcess, TextRecord, text_hash
from bench._harness import (
    BACKEND_LABELS,
    POSTGRES_URL,
    ROOT,
    Database,
    SiteProcess,
    code_version,
    cpu_seconds,
    fresh_database,
    log,
    markdown,
    migrated,
    ms,
    percentile,
    postgres_problem,
)
from bench._site import LINK_PATTERN, SITE_NAME, list_path
from bot.config import DeliverySettings
from bot.texts import t
from storage import (
    DEFAULT_TIMEZONE,
    ArticleRecord,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    make_engine,
    make_sessionmaker,
    outbox_backlog,
    subscribe,
    update_subscriber,
)

__all__ = ["main"]

FIRST_CHAT = 10_000_000  # subscribers' chat ids, private chats from here up
FIRST_USER = 500_000  # the simulated users' chat ids: below every subscriber's
PAGE = 1000  # subscribers per transaction at set-up
BOT_START = 10.0  # seconds from starting the bot process to its first poll, and some
CAP_SHARE = 0.6  # of the cap the default digest load asks for
SEARCH_WORDS = ("乡村振兴", "安全生产", "防汛抗旱", "营商环境", "老旧小区", "高标准农田", "招商引资", "生态环境")
COMMAND_MIX = (("summary", 30), ("latest", 25), ("search", 20), ("summary <id>", 15), ("full <id>", 10))
SORRY = frozenset(text_hash(t(language, "sorry")) for language in ("zh", "en"))
_NAN = float("nan")


# ── the processes ─────────────────────────────────────────────────────────────────────────


def news_site(args: argparse.Namespace) -> SiteProcess:
    """Return the publishing news site: one list page per source, on a host of its own."""
    steps = args.minutes + math.ceil(args.drain / 60) + 1  # a publish every minute of the run and of the drain
    pages = args.sources * (args.initial + args.new_per_minute * steps)
    return SiteProcess(
        pages, sources=args.sources, initial=args.initial, per_publish=args.new_per_minute, links=args.links
    )


def write_config(path: Path, *, database_url: str, api_url: str, bases: Sequence[str], rate: float) -> None:
    """Write the bot's TOML settings: defaults but for the emulator, the database, the cap and the sources."""

    def quoted(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string

    lines = [
        f"token = {quoted(TOKEN)}",
        f"database_url = {quoted(database_url)}",
        f"telegram_api_url = {quoted(api_url)}",
        "",
        "[delivery]",
        f"rate = {rate}",
    ]
    for k, base in enumerate(bases):
        lines += [
            "",
            "[[sources]]",
            f"name = {quoted(f'{SITE_NAME}{k + 1:02d}')}",
            'kind = "listpage"',
            f"url = {quoted(base + list_path(k))}",
            "interval = 1",
            f"link_pattern = {quoted(LINK_PATTERN)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class BotProcess:
    """``python -m bot run`` in a child process, its output in a log file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.pid = 0
        self.returncode: int | None = None
        self.stopped_at: int | None = None  # the log's size when SIGTERM was sent
        self._child: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 120.0) -> None:
        """Start the bot and return once it says it is running (polling, sender and jobs started)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}  # the file says it all
        with self.log_path.open("wb") as out:
            self._child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config), cwd=ROOT, env=env, stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        self.pid = self._child.pid
        deadline = time.monotonic() + timeout
        while "newsbot is running" not in self.log_path.read_text(errors="replace"):
            if self._child.returncode is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the bot did not start (exit status {self._child.returncode}):\n{tail}")
            await asyncio.sleep(0.1)

    @property
    def exited(self) -> bool:
        """Return whether the bot process has ended."""
        return self._child is not None and self._child.returncode is not None

    def rss_mib(self) -> float:
        """Return the bot's resident set size now, in MiB (NaN once it is gone)."""
        with contextlib.suppress(OSError), open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return _NAN

    def cpu_seconds(self) -> float:
        """Return the CPU seconds the bot has used, every thread (the summariser's and aiosqlite's too)."""
        return _NAN if self.exited else cpu_seconds(self.pid, all_threads=True)

    async def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as a service manager stops it; SIGKILL after `timeout` s. Return the exit status."""
        child = self._child
        assert child is not None
        if child.returncode is None:
            self.stopped_at = self.log_path.stat().st_size
            child.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.wait(), timeout=timeout)
            except TimeoutError:
                child.kill()
                await child.wait()
        self.returncode = child.returncode
        return child.returncode if child.returncode is not None else -1

    def problems(self) -> tuple[list[str], list[str]]:
        """Return the log's errors before SIGTERM and after it: each ERROR or CRITICAL line, with the
        exception its traceback ends in."""
        data = self.log_path.read_bytes()
        stop = len(data) if self.stopped_at is None else self.stopped_at
        found: tuple[list[str], list[str]] = ([], [])
        offset = 0
        current: list[str] | None = None  # the error whose traceback is being read
        for raw in data.splitlines(keepends=True):
            line = raw.decode(errors="replace").rstrip()
            if " ERROR " in line or " CRITICAL " in line:
                current = found[offset >= stop]
                current.append(line)
            elif current is not None and line and not line.startswith((" ", "Traceback", "During", "The above")):
                current[-1] += f" → {line}"  # the exception, last line of the traceback
                current = None
            offset += len(raw)
        return found


# ── the database ──────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Books:
    """The benchmark's own connection to the bot's database, for counts and the final accounting."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def backlog(self) -> int:
        """Return the outbox rows not yet done: pending or being sent."""
        async with self.sessions() as session:
            counts = await outbox_backlog(session=session)
        return counts[OutboxStatus.PENDING] + counts[OutboxStatus.SENDING]

    async def articles(self) -> int:
        """Return how many articles are stored."""
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ArticleRecord)) or 0)

    async def digests(self) -> int:
        """Return how many digests have been enqueued."""
        async with self.sessions() as session:
            stmt = select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == OutboxKind.DIGEST)
            return int(await session.scalar(stmt) or 0)

    async def rows(self) -> list[tuple[int, OutboxKind, OutboxStatus, list[int]]]:
        """Return every outbox row: chat, kind, status, Telegram message ids."""
        async with self.sessions() as session:
            stmt = select(OutboxRow.chat_id, OutboxRow.kind, OutboxRow.status, OutboxRow.telegram_message_ids)
            return [(c, k, s, list(ids or [])) for c, k, s, ids in (await session.execute(stmt)).tuples()]


def watching_engine(database: Database) -> AsyncEngine:
    """Return an engine for this benchmark's counts that does not get in the bot's way.

    On SQLite, `make_engine` begins every transaction IMMEDIATE, taking the write lock even to read;
    the counts need only a snapshot, which the driver's own deferred transactions give under WAL.
    """
    if database.backend == "sqlite":
        return create_async_engine(make_url(database.url).set(drivername="sqlite+aiosqlite"))
    return make_engine(database.url)


async def subscribe_all(sessions: async_sessionmaker[AsyncSession], count: int, not_due: str) -> list[int]:
    """Subscribe `count` private chats, each with digest time `not_due`; return their chat ids."""
    ids = [FIRST_CHAT + i for i in range(count)]
    for start in range(0, count, PAGE):
        async with sessions.begin() as session:
            for chat_id in ids[start : start + PAGE]:
                await subscribe(
                    session=session,
                    chat_id=chat_id,
                    user_id=chat_id,
                    kind="private",
                    language="zh",
                    digest_time=not_due,
                )
    return ids


async def schedule_digests(
    sessions: async_sessionmaker[AsyncSession], chat_ids: Sequence[int], first: datetime, minutes: int
) -> None:
    """Give the chats digest times at `first` and each of the next minutes in turn."""
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    for start in range(0, len(chat_ids), PAGE):
        async with sessions.begin() as session:
            for n in range(start, min(start + PAGE, len(chat_ids))):
                at = (first + timedelta(minutes=n % minutes)).astimezone(zone)
                await update_subscriber(session=session, chat_id=chat_ids[n], digest_time=f"{at:%H:%M}")


# ── users and what the emulator saw ───────────────────────────────────────────────────────


@dataclass(slots=True)
class Command:
    """One command a user sent, and its answer (emulator time.monotonic())."""

    user: int
    kind: str
    queued: float = _NAN
    replied: float = _NAN
    error: bool = False
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def latency_ms(self) -> float:
        """Return ms from queued to replied (NaN while unanswered)."""
        return 1000 * (self.replied - self.queued)


class Traffic:
    """Everything the emulator recorded, sorted into replies to users and messages to subscribers."""

    def __init__(self, users: range, subscribers: range) -> None:
        self.users = users
        self.subscribers = subscribers
        self.commands: list[Command] = []
        self.waiting: defaultdict[int, deque[Command]] = defaultdict(deque)  # per user, oldest first
        self.stray_replies = 0  # messages to a user with no command waiting
        self.broadcast_at: list[float] = []  # when each message to a subscriber was recorded
        self.texts: Counter[tuple[int, str]] = Counter()  # (subscriber chat, text hash) → messages
        self.message_ids: defaultdict[int, list[int]] = defaultdict(list)  # subscriber chat → message ids
        self.other = 0  # messages to chats that are neither
        self.started = _NAN  # when the measured minutes began (time.monotonic())

    def take(self, records: Sequence[TextRecord]) -> None:
        """Sort a batch of records."""
        for method, chat_id, at, message_id, digest in records:
            if method != "sendMessage":
                continue
            if chat_id in self.users:
                waiting = self.waiting[chat_id]
                if not waiting:
                    self.stray_replies += 1
                    continue
                command = waiting.popleft()
                command.replied, command.error = at, digest in SORRY
                command.answered.set()
            elif chat_id in self.subscribers:
                self.broadcast_at.append(at)
                self.texts[(chat_id, digest)] += 1
                self.message_ids[chat_id].append(message_id)
            else:
                self.other += 1

    def answered_between(self, start: float, end: float) -> list[Command]:
        """Return the commands answered in [start, end)."""
        return [c for c in self.commands if start <= c.replied < end]

    def duplicates(self) -> int:
        """Return the messages recorded more than once with the same text in the same subscriber chat."""
        return sum(n - 1 for n in self.texts.values() if n > 1)


def command_text(kind: str, rng: random.Random, articles: int) -> str:
    """Return the text of a command of this kind."""
    article = rng.randint(1, max(articles, 1))
    return {
        "summary": "/summary",
        "latest": "/latest",
        "search": f"/search {rng.choice(SEARCH_WORDS)}",
        "summary <id>": f"/summary {article}",
        "full <id>": f"/full {article}",
    }[kind]


@dataclass(slots=True)
class Crowd:
    """The simulated users: what they share."""

    emulator: EmulatorProcess
    traffic: Traffic
    think: float
    reply_timeout: float
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    articles: int = 1  # the last count of stored articles: ids to ask for

    async def user(self, user_id: int, rng: random.Random) -> None:
        """Send a command, wait for its reply, think, again, until stopped."""
        kinds, weights = zip(*COMMAND_MIX, strict=True)
        pause = rng.uniform(0, self.think)  # users start spread out, not all at once
        while not await self._rest(pause):
            command = Command(user_id, rng.choices(kinds, weights)[0])
            self.traffic.waiting[user_id].append(command)  # before sending: the reply may come at once
            self.traffic.commands.append(command)
            _, command.queued = await self.emulator.send_text(user_id, command_text(command.kind, rng, self.articles))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(command.answered.wait(), timeout=self.reply_timeout)
            pause = rng.expovariate(1 / self.think)

    async def _rest(self, seconds: float) -> bool:
        """Wait, and return whether the run is over."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return self.stopping.is_set()


async def collect(emulator: EmulatorProcess, traffic: Traffic, done: asyncio.Event, every: float = 0.2) -> None:
    """Fetch the emulator's records into `traffic` until `done`, and once more after."""
    while not done.is_set():
        traffic.take(await emulator.text_records())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=every)
    traffic.take(await emulator.text_records())


# ── the run ───────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Minute:
    """One minute of the run."""

    minute: int
    rss: float
    cpu: float  # % of one core
    answered: int
    errors: int
    p50: float
    p99: float
    backlog: int
    sent: int
    articles: int

    def cells(self) -> list[str]:
        """Return the table row."""
        return [
            str(self.minute),
            f"{self.rss:.0f}",
            f"{self.cpu:.0f}",
            str(self.answered) + (f" ({self.errors} errors)" if self.errors else ""),
            ms(self.p50, whole=True),
            ms(self.p99, whole=True),
            f"{self.backlog:,}",
            f"{self.sent:,}",
            f"{self.articles:,}",
        ]


MINUTE_HEADERS = (
    "minute",
    "bot RSS MiB",
    "bot CPU % (one core)",
    "commands answered",
    "p50 ms",
    "p99 ms",
    "outbox backlog",
    "messages sent",
    "articles stored",
)


@dataclass(slots=True)
class Outcome:
    """What the run measured."""

    minutes: list[Minute]
    digests_due: int
    drain_seconds: float
    drained: bool
    rows: list[tuple[int, OutboxKind, OutboxStatus, list[int]]]
    exit_status: int
    errors: list[str]  # logged while running
    shutdown_errors: list[str]  # logged after SIGTERM
    setup_seconds: float


async def measure(args: argparse.Namespace, database: Database, workdir: Path) -> tuple[Outcome, Traffic]:
    """Set up, run the bot under load for the minutes asked, drain, stop it, and close the books."""
    began = time.monotonic()
    engine = await migrated(database)
    sessions = make_sessionmaker(engine)
    watcher = watching_engine(database)
    books = Books(watcher, make_sessionmaker(watcher))
    try:
        zone = ZoneInfo(DEFAULT_TIMEZONE)
        not_due = f"{datetime.now(zone) - timedelta(hours=2):%H:%M}"  # passed today: next due tomorrow
        traffic = Traffic(range(FIRST_USER, FIRST_USER + args.users), range(FIRST_CHAT, FIRST_CHAT + args.subscribers))
        async with EmulatorProcess(TOKEN) as emulator, news_site(args) as site:
            log(f"set-up: subscribing {args.subscribers:,} chats ({database.label})")
            subscribing = time.monotonic()
            chat_ids = await subscribe_all(sessions, args.subscribers, not_due)
            per_chat = (time.monotonic() - subscribing) / args.subscribers
            due_ids = chat_ids[: args.digests_per_minute * args.minutes]
            # Digest times have minute precision: the first is the boundary the bot is started just before.
            ready = datetime.now(UTC) + timedelta(seconds=per_chat * len(due_ids) + BOT_START + 5)
            first = ready.replace(second=0, microsecond=0) + timedelta(minutes=1)
            log(f"set-up: {len(due_ids):,} digests due, {args.digests_per_minute:,} a minute from {first:%H:%M} UTC")
            await schedule_digests(sessions, due_ids, first, args.minutes)
            setup_seconds = time.monotonic() - began
            await asyncio.sleep(max(0.0, (first - datetime.now(UTC)).total_seconds() - BOT_START))
            config = workdir / "soak.toml"
            api = emulator.base_url.removesuffix("/bot")
            write_config(config, database_url=database.url, api_url=api, bases=site.bases, rate=args.rate)
            bot = BotProcess(config, args.bot_log or workdir / "bot.log")
            log(f"starting the bot: {args.sources} sources on {site.pages:,} pages, log in {bot.log_path}")
            await bot.start()
            try:
                minutes, drained, drain_seconds = await load(args, bot, books, emulator, site, traffic, len(due_ids))
            finally:
                status = await bot.stop()
            traffic.take(await emulator.text_records())  # what the bot sent while stopping
            rows = await books.rows()
        outcome = Outcome(minutes, len(due_ids), drain_seconds, drained, rows, status, *bot.problems(), setup_seconds)
        return outcome, traffic
    finally:
        await engine.dispose()
        await books.engine.dispose()


async def load(
    args: argparse.Namespace,
    bot: BotProcess,
    books: Books,
    emulator: EmulatorProcess,
    site: SiteProcess,
    traffic: Traffic,
    due: int,
) -> tuple[list[Minute], bool, float]:
    """Run the users and the publishing for the minutes asked, a row a minute; then drain."""
    crowd = Crowd(emulator, traffic, args.think, args.reply_timeout, articles=await books.articles())
    done = asyncio.Event()
    collector = asyncio.create_task(collect(emulator, traffic, done))
    start = traffic.started = time.monotonic()
    seed = random.Random(args.seed)
    users = [asyncio.create_task(crowd.user(user_id, random.Random(seed.random()))) for user_id in traffic.users]
    rows: list[Minute] = []
    cpu_before = bot.cpu_seconds()
    log("| " + " | ".join(MINUTE_HEADERS) + " |")
    try:
        for minute in range(1, args.minutes + 1):
            end = start + 60 * minute
            # New articles a few seconds before the ingest jobs (every minute from the bot's start) come round.
            await asyncio.sleep(max(0.0, end - 5 - time.monotonic()))
            await site.publish()
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            traffic.take(await emulator.text_records())
            cpu = bot.cpu_seconds()
            answered = traffic.answered_between(end - 60, end)
            latencies = [c.latency_ms for c in answered if not c.error]
            crowd.articles = await books.articles()
            row = Minute(
                minute=minute,
                rss=bot.rss_mib(),
                cpu=100 * (cpu - cpu_before) / 60,
                answered=len(answered),
                errors=sum(c.error for c in answered),
                p50=percentile(latencies, 50),
                p99=percentile(latencies, 99),
                backlog=await books.backlog(),
                sent=sum(1 for at in traffic.broadcast_at if end - 60 <= at < end),
                articles=crowd.articles,
            )
            cpu_before = cpu
            rows.append(row)
            log("| " + " | ".join(row.cells()) + " |")
            if bot.exited:
                log("the bot exited before the end of the run")
                break
    finally:
        crowd.stopping.set()
        await asyncio.gather(*users)
    drain_start = time.monotonic()
    drained = False
    while time.monotonic() - drain_start < args.drain:
        if await books.digests() >= due and await books.backlog() == 0:
            drained = True
            break
        await asyncio.sleep(1)
    drain_seconds = time.monotonic() - drain_start
    done.set()
    await collector
    return rows, drained, drain_seconds


# ── the report ────────────────────────────────────────────────────────────────────────────


def slowest(commands: Sequence[Command], started: float, count: int = 5) -> str:
    """Return the slowest commands, what they were and when they were sent: what they waited behind."""
    cells = []
    for command in sorted(commands, key=lambda c: c.latency_ms, reverse=True)[:count]:
        offset = command.queued - started
        cells.append(f"{command.kind} {command.latency_ms:.0f} ms at {int(offset // 60)}:{int(offset % 60):02d}")
    return "; ".join(cells) or "—"


def verdict(args: argparse.Namespace, outcome: Outcome, traffic: Traffic, label: str) -> str:
    """Return the summary table and the verdict lines."""
    minutes = outcome.minutes
    commands = traffic.commands
    answered = [c for c in commands if not math.isnan(c.replied)]
    errors = [c for c in answered if c.error]
    latencies = [c.latency_ms for c in answered if not c.error]
    quantiles = {q: ms(percentile(latencies, q), whole=True) for q in (50, 90, 99, 100)}  # p50, p90, p99, max
    unanswered = len(commands) - len(answered)
    late = [c for c in answered if c.latency_ms > 1000 * args.reply_timeout]
    statuses = Counter(status for _, _, status, _ in outcome.rows)
    kinds = Counter(kind for _, kind, _, _ in outcome.rows)
    open_rows = statuses[OutboxStatus.PENDING] + statuses[OutboxStatus.SENDING]
    # A sent row's parts are the messages the emulator recorded in its chat, no more, no fewer.
    expected: defaultdict[int, list[int]] = defaultdict(list)
    for chat_id, _, status, ids in outcome.rows:
        if status is OutboxStatus.SENT:
            expected[chat_id] += ids
    missing = sum(len(set(ids) - set(traffic.message_ids.get(chat, []))) for chat, ids in expected.items())
    unaccounted = sum(len(set(ids) - set(expected.get(chat, []))) for chat, ids in traffic.message_ids.items())
    duplicates = traffic.duplicates()
    digests = kinds[OutboxKind.DIGEST]
    sent_messages = len(traffic.broadcast_at)

    rows = [
        ["commands sent / answered / unanswered", f"{len(commands):,} / {len(answered):,} / {unanswered:,}"],
        ["answered later than the reply timeout", f"{len(late):,}"],
        ["error replies (the bot's 'sorry')", f"{len(errors):,}"],
        ["messages to users no command was waiting for / to other chats", f"{traffic.stray_replies} / {traffic.other}"],
        ["latency p50 / p90 / p99 / max, ms", " / ".join(quantiles.values())],
        ["the slowest (when: minutes:seconds into the run)", slowest(answered, traffic.started)],
        ["digests due / enqueued", f"{outcome.digests_due:,} / {digests:,}"],
        ["outbox rows sent / blocked / failed / still queued",
         f"{statuses[OutboxStatus.SENT]:,} / {statuses[OutboxStatus.BLOCKED]:,} / "
         f"{statuses[OutboxStatus.FAILED]:,} / {open_rows:,}"],
        ["messages the emulator recorded for subscribers", f"{sent_messages:,}"],
        ["sent rows' messages the emulator never recorded", f"{missing:,}"],
        ["recorded messages no sent row accounts for", f"{unaccounted:,}"],
        ["duplicates (same chat, same text)", f"{duplicates:,}"],
        ["drain after the last minute",
         f"{outcome.drain_seconds:.0f} s" + ("" if outcome.drained else f" (stopped at --drain {args.drain:g} s)")],
        ["bot exit status after SIGTERM", str(outcome.exit_status)],
        ["errors in the bot's log while running / after SIGTERM",
         f"{len(outcome.errors):,} / {len(outcome.shutdown_errors):,}"],
    ]  # fmt: skip
    text = [markdown(("what", "count"), rows, f"Totals ({label})")]

    lines = ["**Verdict**", ""]
    if len(minutes) >= 3:
        base, last = minutes[1].rss, minutes[-1].rss
        growth = 100 * (last - base) / base
        flat = abs(growth) <= args.rss_tolerance
        per_minute = (last - base) / (len(minutes) - 2)
        lines.append(
            f"- memory: {last:.0f} MiB at minute {len(minutes)} against {base:.0f} MiB at minute 2 "
            f"({growth:+.1f}%, {per_minute:+.2f} MiB a minute): "
            + ("flat" if flat else f"**NOT flat** (tolerance ±{args.rss_tolerance:g}%)")
        )
    else:
        rss = ", ".join(f"{m.rss:.0f}" for m in minutes)
        lines.append(f"- memory: {len(minutes)} minute(s) is too short to judge (needs 3; RSS by minute: {rss} MiB)")
    lines.append(
        f"- commands: {len(answered):,} of {len(commands):,} answered, p50 {quantiles[50]} ms, "
        f"p99 {quantiles[99]} ms; {len(errors)} error replies"
        + (f"; **{unanswered} unanswered**" if unanswered else "")
    )
    lost = missing + (outcome.digests_due - digests)
    shown = "yes" if open_rows == 0 else f"not shown, {open_rows:,} rows were still queued when the drain ended"
    lines.append(
        "- nothing lost: "
        + (shown if lost == 0 else "**NO**")
        + f" — {digests:,} of {outcome.digests_due:,} due digests enqueued; "
        f"{statuses[OutboxStatus.SENT]:,} rows sent, {statuses[OutboxStatus.BLOCKED]:,} blocked, "
        f"{statuses[OutboxStatus.FAILED]:,} failed, {open_rows:,} still queued at the end; "
        f"{missing:,} messages marked sent that the emulator never received"
    )
    lines.append(
        "- duplicates: "
        + ("none" if duplicates == 0 and unaccounted == 0 else "**yes**")
        + f" — {duplicates:,} repeated (chat, text), {unaccounted:,} recorded messages without a sent row"
    )
    lines.append(
        f"- the bot: exit status {outcome.exit_status} after SIGTERM; {len(outcome.errors)} errors logged while "
        f"running, {len(outcome.shutdown_errors)} while stopping"
        + (" (first ones below)" if outcome.errors or outcome.shutdown_errors else "")
    )
    for when, problems in (("running", outcome.errors), ("stopping", outcome.shutdown_errors)):
        lines += [f"  - {when}: `{problem[:300]}`" for problem in problems[:5]]
    return "\n".join(text) + "\n" + "\n".join(lines) + "\n"


# ── main ──────────────────────────────────────────────────────────────────────────────────


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10, help="measured minutes (default 10)")
    parser.add_argument("--subscribers", type=int, default=50_000, help="subscribed chats (default 50000)")
    parser.add_argument("--sources", type=int, default=20, help="list-page sources, ingested every minute (default 20)")
    parser.add_argument("--users", type=int, default=200, help="simulated users sending commands (default 200)")
    parser.add_argument("--backend", choices=sorted(BACKEND_LABELS), default="sqlite", help="default sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="PostgreSQL server (a schema is made in it)")
    parser.add_argument(
        "--rate", type=float, default=DeliverySettings().rate, help="the outbox cap, messages/s (default the bot's)"
    )
    parser.add_argument(
        "--digests-per-minute",
        type=int,
        help=f"digests due each minute (default {100 * CAP_SHARE:.0f}%% of the cap; with --rate 0, all subscribers)",
    )
    parser.add_argument("--initial", type=int, default=20, help="articles each source has at start (default 20)")
    parser.add_argument("--new-per-minute", type=int, default=2, help="articles each source adds a minute (default 2)")
    parser.add_argument("--links", type=int, default=20, help="newest articles on a list page (default 20)")
    parser.add_argument("--think", type=float, default=30.0, help="users' mean pause between commands, s (default 30)")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="how long a user waits, s (default 30)")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to finish the backlog after (default 120)")
    parser.add_argument("--rss-tolerance", type=float, default=10.0, help="flat: within this %% (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="the users' random seed")
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log here (default: a temporary file)")
    args = parser.parse_args(argv)
    if min(args.minutes, args.subscribers, args.sources, args.users, args.initial) < 1 or args.sources > 254:
        parser.error("--minutes, --subscribers, --users and --initial must be positive; --sources 1-254")
    if args.digests_per_minute is None:
        if args.rate:
            args.digests_per_minute = int(CAP_SHARE * args.rate * 60)
        else:
            args.digests_per_minute = math.ceil(args.subscribers / args.minutes)
    args.digests_per_minute = min(args.digests_per_minute, args.subscribers // args.minutes)
    return args


async def run(args: argparse.Namespace) -> None:
    """Measure and print."""
    load_average = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    label = BACKEND_LABELS[args.backend]
    rate = f"{args.rate:g}/s" if args.rate else "off"
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        workdir = Path(tmp)
        database = fresh_database(args.backend, workdir, args.postgres_url, bench="soak")
        try:
            outcome, traffic = await measure(args, database, workdir)
        finally:
            database.drop()
    print("# Soak\n")
    print(
        f"- {code_version()}; Python {platform.python_version()}, python-telegram-bot {telegram.__version__}; "
        f"{os.cpu_count()} cores, load average before the run {load_average}\n"
        f"- {label}; {args.minutes} minute{'s' if args.minutes > 1 else ''}; {args.subscribers:,} subscribers, "
        f"{outcome.digests_due:,} of them due a digest ({args.digests_per_minute:,} a minute); outbox cap {rate}; "
        f"{args.sources} sources ({args.initial} articles each at start, {args.new_per_minute} more a minute, "
        f"{args.links} on a list page), "
        f"ingested every minute; {args.users} users, a command every {args.think:g} s on average each; "
        f"set-up {outcome.setup_seconds:.0f} s\n"
    )
    print(markdown(MINUTE_HEADERS, [m.cells() for m in outcome.minutes], f"Minute by minute ({label})"))
    print(verdict(args, outcome, traffic, label))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the soak (see the module docstring)."""
    args = parse_args(argv)
    if args.backend == "postgresql" and (problem := postgres_problem(args.postgres_url)) is not None:
        raise SystemExit(problem)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
