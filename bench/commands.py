"""Benchmark command latency: simulated users sending /summary and /latest at once, against the emulator.

Usage (from the repository root)::

    .venv/bin/python bench/commands.py [--users 200] [--repeats 3] [--backends sqlite,postgresql] [--quick]

The issue: "200 simulated users sending /summary and /latest at once: p50 and p99 reply latency
(targets 30 ms and 150 ms at the emulator)."

Set-up: a fresh SQLite file (and a PostgreSQL schema with ``--backends``) holding the bundled sample
articles, ingested with `bot.services.open_services` and the default source (`bot.config.sample_source`).
Then three bots in this process, each against its own `BotAPIEmulator` in a child process
(`bench._bot.EmulatorProcess`: Telegram's servers are not on the bot's machine either):

- newsbot: the whole bot, `bot.app.run_bot(settings, stop=..., schedule=False)`, long-polling;
- two floors: a minimal PTB Application built as `build_application` builds ours (64 concurrent
  updates, 64 connections, no job queue) whose handlers for the same commands reply a constant,
  one on newsbot's transport (`bot.transport.AiohttpRequest`), one on PTB's default HTTPXRequest:
  what python-telegram-bot itself costs here, with and without the transport newsbot chose.

All run side by side; every scenario runs on each bot in turn (the order reversing with each
repetition), so all see the same machine:

- burst: each of ``--users`` users sends /summary and /latest at once (2 × users updates queued in
  one go, before the bot's next getUpdates);
- mix: each user sends two of /summary, /latest, /summary <id of an older article>, /search 流域;
- paced: the burst's commands, spread evenly at ``--paced-rate`` a second (a load below capacity);
- one at a time: a user sends a command and waits for the reply, ``--sequential`` times a kind.

Latency: from the update being queued at the emulator to the emulator recording the reply to that
chat (both on the emulator's clock, time.monotonic, which is the same in every process), matched
to its command by a fingerprint of its text (each command's reply is taken from one calibration
request first; a reply matching none counts as an error). Segments:

- queued → delivered: until the getUpdates that returned it was answered: the later of its
  arrival (the emulator's log: the poll whose offset first covers the update) and the end of the
  burst's queueing;
- delivered → dispatched: PTB's update queue; "dispatched" is when a `TypeHandler` in group -1,
  added to every Application (by wrapping `bot.app.build_application` for newsbot), first saw it;
- dispatched → replied: the handler: database, rendering, the sendMessage round trip.

Throughput: commands answered / (last reply - first queued). CPU: this process (the bots, not the
emulators) per command. Then, without Telegram or PTB, the bare cost of each handler's query and
rendering, on the same database. Output: Markdown tables on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import math
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram
from pydantic import SecretStr
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, TypeHandler

import bot.app as app_module
from bench._bot import TOKEN, EmulatorProcess
from bench._harness import (
    POSTGRES_URL,
    Database,
    code_version,
    fresh_database,
    log,
    markdown,
    median,
    ms,
    own_cpu,
    percentile,
    postgres_problem,
)
from bot.app import run_bot
from bot.config import FetchSettings, FloodSettings, Settings, WebSettings, sample_source
from bot.render import latest_message, summary_message
from bot.services import Services, open_services
from bot.transport import AiohttpRequest
from storage import get_article, latest_articles, search_articles

__all__ = ["main"]

TARGET_P50 = 30.0  # ms
TARGET_P99 = 150.0  # ms
SEARCH_WORDS = "流域"
FIRST_USER = 500_000
NEWSBOT = "newsbot"
FLOOR_AIOHTTP = "PTB floor, newsbot's transport"  # constant replies through bot.transport.AiohttpRequest
FLOOR_HTTPX = "PTB floor, default HTTPXRequest"  # constant replies, python-telegram-bot as it comes
BOTS = (NEWSBOT, FLOOR_AIOHTTP, FLOOR_HTTPX)
_NAN = float("nan")


# ── the bots ──────────────────────────────────────────────────────────────────────────────


def make_settings(database_url: str, emulator: EmulatorProcess) -> Settings:
    """Return settings for a bot talking to `emulator`, reading the bundled samples.

    The flood limit is off: a simulated user sends more than 20 commands a minute here, and what
    is measured is answering them, not refusing them.
    """
    return Settings(
        token=SecretStr(TOKEN),
        telegram_api_url=emulator.base_url.removesuffix("/bot"),
        database_url=database_url,
        admins=[],
        sources=[sample_source()],
        fetch=FetchSettings(delay=0, retries=0, connect_timeout=1, read_timeout=2),
        flood=FloodSettings(commands=0),
        web=WebSettings(listen=""),  # the bot alone; 8080 may be taken
    )


def probe(dispatched: dict[int, float]) -> TypeHandler[Update, Any]:
    """Return a handler (for group -1) noting when PTB starts handling each update."""

    async def note(update: Update, _: Any) -> None:
        dispatched.setdefault(update.update_id, time.monotonic())

    return TypeHandler(Update, note)


@contextlib.contextmanager
def probed_build(dispatched: dict[int, float]) -> Iterator[None]:
    """Make `run_bot` build its Application with the dispatch probe added (the package is not edited)."""
    original = app_module.build_application

    def build(settings: Settings, services: Services) -> Application[Any, Any, Any, Any, Any, Any]:
        application = original(settings, services)
        application.add_handler(probe(dispatched), group=-1)
        return application

    app_module.build_application = build
    try:
        yield
    finally:
        app_module.build_application = original


async def polling(emulator: EmulatorProcess) -> None:
    """Return once the bot long-polls (a getUpdates came in)."""
    async with asyncio.timeout(30):
        while not (await emulator.activity())[1]:
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def newsbot(database_url: str, dispatched: dict[int, float]) -> AsyncIterator[EmulatorProcess]:
    """Run the whole bot (`run_bot`) against an emulator of its own; yield the emulator."""
    async with EmulatorProcess() as emulator:
        stop = asyncio.Event()
        with probed_build(dispatched):
            task = asyncio.create_task(run_bot(make_settings(database_url, emulator), stop=stop, schedule=False))
            try:
                await polling(emulator)
            except BaseException:
                stop.set()
                await task
                raise
        try:
            yield emulator
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


FLOOR_REPLY = "<b>收到</b>：{command}"


async def constant_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply a constant (naming the command, so replies can be told apart)."""
    message = update.effective_message
    if message is not None and message.text:
        text = FLOOR_REPLY.format(command=html.escape(message.text))
        await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=False)


@contextlib.asynccontextmanager
async def floor_bot(dispatched: dict[int, float], *, aiohttp: bool) -> AsyncIterator[EmulatorProcess]:
    """Run a minimal PTB bot replying a constant, built like `build_application` (64 concurrent
    updates, 64 connections, no job queue); on newsbot's aiohttp transport or PTB's default
    HTTPXRequest. Yield its emulator."""
    async with EmulatorProcess() as emulator:
        builder = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).concurrent_updates(64).job_queue(None)
        builder = builder.request(AiohttpRequest(64)) if aiohttp else builder.connection_pool_size(64)
        application = builder.build()
        application.add_handler(probe(dispatched), group=-1)
        application.add_handler(CommandHandler(["summary", "latest", "search"], constant_reply))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(drop_pending_updates=False)
            try:
                await polling(emulator)
                yield emulator
            finally:
                await application.updater.stop()
                await application.stop()


def bot_context(
    name: str, database_url: str, dispatched: dict[int, float]
) -> AbstractAsyncContextManager[EmulatorProcess]:
    """Return the context that runs bot `name` (one of BOTS)."""
    if name == NEWSBOT:
        return newsbot(database_url, dispatched)
    return floor_bot(dispatched, aiohttp=name == FLOOR_AIOHTTP)


# ── commands and their latencies ──────────────────────────────────────────────────────────


@dataclass(slots=True)
class Command:
    """One command a user sent, and when each step of its answer happened (time.monotonic())."""

    user: int
    text: str
    kind: str
    update_id: int = 0
    queued: float = _NAN
    delivered: float = _NAN
    dispatched: float = _NAN
    replied: float = _NAN
    error: str | None = None

    @property
    def latency(self) -> float:
        """Return ms from queued to replied (NaN when unanswered)."""
        return 1000 * (self.replied - self.queued)


@dataclass(slots=True)
class Outcome:
    """One scenario on one bot."""

    bot: str
    scenario: str
    commands: list[Command]
    cpu: float  # seconds of this process's CPU (the bots'; the emulators run in processes of their own)
    polls: int  # getUpdates calls during the scenario
    seconds: float  # first queued to last reply

    @property
    def answered(self) -> list[Command]:
        """Return the commands answered with the expected reply."""
        return [c for c in self.commands if c.error is None and not math.isnan(c.replied)]


class Kinds:
    """The command kinds and what each one's reply must be, learnt from one calibration request each."""

    def __init__(self, article_id: int) -> None:
        self.texts = {
            "summary": "/summary",
            "latest": "/latest",
            "summary <id>": f"/summary {article_id}",
            f"search {SEARCH_WORDS}": f"/search {SEARCH_WORDS}",
        }
        self.expected: dict[str, dict[str, str]] = {}  # bot → kind → `text_hash` of the reply

    async def calibrate(self, bot: str, emulator: EmulatorProcess) -> None:
        """Ask each command once and keep its reply's fingerprint."""
        replies = {}
        for kind, text in self.texts.items():
            await emulator.activity()
            await emulator.send_texts([(FIRST_USER - 1, text)])
            async with asyncio.timeout(10):
                while not (sent := [h for m, chat, _, h in (await emulator.activity())[0] if m == "sendMessage"]):
                    await asyncio.sleep(0.01)
            replies[kind] = sent[0]
        if len(set(replies.values())) < len(replies):
            log(f"  {bot}: two kinds of command get the same reply; they are matched in order")
        self.expected[bot] = replies


async def run_scenario(
    bot: str,
    scenario: str,
    emulator: EmulatorProcess,
    dispatched: dict[int, float],
    kinds: Kinds,
    plan: list[tuple[int, str]],
    *,
    pace: float | None = None,
    timeout: float = 120.0,
) -> Outcome:
    """Send the plan's (user, kind) commands, at once or `pace` a second, and time every reply."""
    commands = [Command(user, kinds.texts[kind], kind) for user, kind in plan]
    pending: defaultdict[int, list[Command]] = defaultdict(list)
    expected = kinds.expected[bot]
    polls: list[tuple[float, int]] = []
    await emulator.activity()  # forget what came before
    cpu = own_cpu()

    async def collect() -> None:
        left = len(commands)
        while left:
            await asyncio.sleep(0.01)
            sent, seen = await emulator.activity()
            polls.extend(seen)
            for method, chat_id, at, fingerprint in sent:
                if method != "sendMessage" or not pending.get(chat_id):
                    continue
                waiting = pending[chat_id]
                match = next((c for c in waiting if expected[c.kind] == fingerprint), None)
                if match is None:
                    match = waiting[0]
                    match.error = "a reply other than this command's"
                waiting.remove(match)
                match.replied = at
                left -= 1

    for command in commands:
        pending[command.user].append(command)
    collector = asyncio.create_task(collect())
    if pace:
        start = time.monotonic()
        for n, command in enumerate(commands):
            if (delay := start + n / pace - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            ((command.update_id, command.queued),) = await emulator.send_texts([(command.user, command.text)])
    else:  # one message to the emulator queues them all
        queued = await emulator.send_texts([(c.user, c.text) for c in commands])
        for command, (update_id, at) in zip(commands, queued, strict=True):
            command.update_id, command.queued = update_id, at
    burst_end = max(c.queued for c in commands)
    try:
        await asyncio.wait_for(collector, timeout=timeout)
    except TimeoutError:
        log(f"  {bot} {scenario}: {sum(math.isnan(c.replied) for c in commands)} commands unanswered")
    cpu = own_cpu() - cpu
    for command in commands:
        command.dispatched = dispatched.get(command.update_id, _NAN)
        # The poll that returned the update: the last one not yet confirming it (offset <= its id).
        arrivals = [at for at, offset in polls if offset <= command.update_id]
        poll_at = arrivals[-1] if arrivals else command.queued
        command.delivered = max(command.queued, poll_at, burst_end if not pace else command.queued)
    replied = [c.replied for c in commands if not math.isnan(c.replied)]
    seconds = (max(replied) - min(c.queued for c in commands)) if replied else _NAN
    return Outcome(bot, scenario, commands, cpu, len(polls), seconds)


async def sequential(
    bot: str, emulator: EmulatorProcess, dispatched: dict[int, float], kinds: Kinds, times: int
) -> Outcome:
    """Send each kind of command `times` times, one at a time, each after the last one's reply."""
    outcomes = [
        await run_scenario(bot, "one at a time", emulator, dispatched, kinds, [(FIRST_USER, kind)])
        for _ in range(times)
        for kind in kinds.texts
    ]
    commands = [c for o in outcomes for c in o.commands]
    return Outcome(
        bot,
        "one at a time",
        commands,
        sum(o.cpu for o in outcomes),
        sum(o.polls for o in outcomes),
        sum(o.seconds for o in outcomes),
    )


def burst_plan(users: int) -> list[tuple[int, str]]:
    """Return each user's /summary then /latest."""
    return [(FIRST_USER + u, kind) for u in range(users) for kind in ("summary", "latest")]


def mix_plan(users: int, kinds: Kinds) -> list[tuple[int, str]]:
    """Return two commands for each user, rotating through the four kinds."""
    names = list(kinds.texts)
    return [(FIRST_USER + u, names[(u + k) % len(names)]) for u in range(users) for k in range(2)]


# ── the handlers' own work, without PTB or HTTP ───────────────────────────────────────────


async def handler_costs(services: Services, article_id: int, times: int) -> list[tuple[str, float, float]]:
    """Return (kind, query ms, render ms), medians, for what each command's handler does."""
    zone = services.settings.zone
    sessions = services.sessions

    async def summary_of(fetch: Callable[[Any], Awaitable[Any]]) -> tuple[float, float]:
        start = time.perf_counter()
        async with sessions() as session:
            article = await fetch(session)
        middle = time.perf_counter()
        summary_message(article, article.summary.to_summary(), "zh", zone)
        return middle - start, time.perf_counter() - middle

    async def list_of(fetch: Callable[[Any], Awaitable[Any]], **title: Any) -> tuple[float, float]:
        start = time.perf_counter()
        async with sessions() as session:
            rows = await fetch(session)
        middle = time.perf_counter()
        latest_message(rows[:10], "zh", zone, offset=0, more=len(rows) > 10, **title)
        return middle - start, time.perf_counter() - middle

    async def newest(session: Any) -> Any:
        return (await latest_articles(session=session, limit=1))[0]

    async def by_id(session: Any) -> Any:
        return await get_article(session=session, article_id=article_id)

    async def latest(session: Any) -> Any:
        return await latest_articles(session=session, limit=11, offset=0)

    async def search(session: Any) -> Any:
        return await search_articles(session=session, words=SEARCH_WORDS, limit=11, offset=0)

    work: dict[str, Callable[[], Awaitable[tuple[float, float]]]] = {
        "summary": lambda: summary_of(newest),
        "latest": lambda: list_of(latest),
        "summary <id>": lambda: summary_of(by_id),
        f"search {SEARCH_WORDS}": lambda: list_of(search, search=(1, SEARCH_WORDS)),
    }
    rows = []
    for kind, run in work.items():
        await run()  # warm-up
        samples = [await run() for _ in range(times)]
        rows.append((kind, 1000 * median([q for q, _ in samples]), 1000 * median([r for _, r in samples])))
    return rows


# ── tables ────────────────────────────────────────────────────────────────────────────────


def latency_table(outcomes: list[Outcome], backend: str) -> str:
    """Return p50/p90/p99/max, throughput, CPU and errors per scenario and bot, pooled over repetitions."""
    groups: defaultdict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.scenario, outcome.bot)].append(outcome)
    rows = []
    floor_p50: dict[str, float] = {}
    for (scenario, bot), group in sorted(groups.items(), key=_by_scenario_and_bot):
        latencies = [c.latency for o in group for c in o.answered]
        sent = sum(len(o.commands) for o in group)
        errors = sent - sum(len(o.answered) for o in group)
        rates = [len(o.answered) / o.seconds for o in group if o.seconds and not math.isnan(o.seconds)]
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        if bot == FLOOR_AIOHTTP:
            floor_p50[scenario] = p50
        rows.append(
            [
                scenario,
                bot,
                f"{sent // len(group)} × {len(group)}",
                ms(p50),
                ms(percentile(latencies, 90)),
                ms(p99),
                ms(max(latencies, default=_NAN)),
                f"{median(rates):.0f}" if rates and scenario != "one at a time" else "—",
                f"{1000 * sum(o.cpu for o in group) / sent:.2f}",
                str(errors),
                ("✓" if p50 <= TARGET_P50 else "✗") + " / " + ("✓" if p99 <= TARGET_P99 else "✗"),
            ]
        )
    for row in rows:  # newsbot's p50 against the floor's, same scenario
        if row[1] == NEWSBOT and row[0] in floor_p50 and floor_p50[row[0]] > 0:
            row[1] = f"newsbot ({float(row[3]) / floor_p50[row[0]]:.1f}× its floor's p50)" if row[3] != "—" else row[1]
    headers = (
        "scenario",
        "bot",
        "commands × runs",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "answered/s",
        "bot CPU ms/cmd",
        "errors",
        f"p50 ≤ {TARGET_P50:g} / p99 ≤ {TARGET_P99:g}",
    )
    title = f"Reply latency, queued at the emulator → reply recorded ({backend}; percentiles over all runs pooled)"
    return markdown(headers, rows, title)


def _by_scenario_and_bot(item: tuple[tuple[str, str], object]) -> tuple[int, int]:
    (scenario, bot), _ = item
    return _order(scenario), BOTS.index(bot)


def _order(scenario: str) -> int:
    return next(
        (i for i, name in enumerate(("burst", "mix", "paced", "one at a time")) if scenario.startswith(name)), 9
    )


def segments_table(outcomes: list[Outcome], backend: str) -> str:
    """Return where the time goes: each segment's median and p99, per scenario and bot."""
    groups: defaultdict[tuple[str, str], list[Command]] = defaultdict(list)
    polls: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.scenario, outcome.bot)].extend(outcome.answered)
        polls[(outcome.scenario, outcome.bot)].append(outcome.polls)
    rows = []
    for (scenario, bot), commands in sorted(groups.items(), key=_by_scenario_and_bot):
        spans = {
            "polling": [1000 * (c.delivered - c.queued) for c in commands],
            "queue": [1000 * (c.dispatched - c.delivered) for c in commands],
            "handler": [1000 * (c.replied - c.dispatched) for c in commands],
        }
        row = [scenario, bot]
        for values in spans.values():
            values = [v for v in values if not math.isnan(v)]
            row.append(f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))}")
        runs = len(polls[(scenario, bot)])
        row.append(f"{sum(polls[(scenario, bot)]) / runs:.1f}" if scenario != "one at a time" else "—")
        rows.append(row)
    headers = (
        "scenario",
        "bot",
        "queued → delivered (getUpdates) p50 / p99 ms",
        "delivered → dispatched (PTB queue) p50 / p99 ms",
        "dispatched → replied (handler + sendMessage) p50 / p99 ms",
        "getUpdates calls a run",
    )
    return markdown(headers, rows, f"Where the time goes ({backend})")


def kinds_table(outcomes: list[Outcome], backend: str) -> str:
    """Return p50 and p99 per kind of command, in the mix and one at a time, per bot."""
    groups: defaultdict[tuple[str, str, str], list[float]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.scenario.startswith(("mix", "one at a time")):
            for command in outcome.answered:
                groups[(outcome.scenario, command.kind, outcome.bot)].append(command.latency)
    rows = [
        [scenario, kind, bot, ms(percentile(values, 50)), ms(percentile(values, 99)), str(len(values))]
        for (scenario, kind, bot), values in sorted(groups.items(), key=lambda item: (_order(item[0][0]), item[0][1:]))
    ]
    headers = ("scenario", "command", "bot", "p50 ms", "p99 ms", "replies")
    return markdown(headers, rows, f"By command ({backend})")


def costs_table(costs: list[tuple[str, float, float]], backend: str) -> str:
    """Return the handlers' own work."""
    rows = [(kind, f"{query:.2f}", f"{render:.2f}", f"{query + render:.2f}") for kind, query, render in costs]
    headers = ("command", "query ms", "render ms", "total ms")
    title = f"The handlers' own work, no PTB, no HTTP, one at a time, medians ({backend})"
    return markdown(headers, rows, title)


# ── main ──────────────────────────────────────────────────────────────────────────────────


async def measure(args: argparse.Namespace, database: Database) -> None:
    """Ingest the samples, run every bot through every scenario, print the tables."""
    settings_probe = Settings(database_url=database.url, sources=[sample_source()])
    async with open_services(settings_probe) as services:
        tally = await services.ingest(services.sources[0])
        async with services.sessions() as session:
            articles = await latest_articles(session=session, limit=50)
        log(f"{database.label}: ingested {dict(tally.counts)}; {len(articles)} articles")
        if len(articles) < 2:
            raise RuntimeError("the samples gave fewer than two articles")
        older = articles[-1].id  # /summary <id> asks for an article other than the newest
        costs = await handler_costs(services, older, args.sequential * 5)
    kinds = Kinds(older)
    seen: dict[str, dict[int, float]] = {bot: {} for bot in BOTS}  # per bot: update id → dispatched
    outcomes: list[Outcome] = []
    async with contextlib.AsyncExitStack() as stack:
        emulators = {bot: await stack.enter_async_context(bot_context(bot, database.url, seen[bot])) for bot in BOTS}
        for bot, emulator in emulators.items():
            await kinds.calibrate(bot, emulator)
            # Warm up: a small burst, so first-use costs (connections, caches) are not measured.
            await run_scenario(bot, "warm-up", emulator, seen[bot], kinds, burst_plan(20))
        for rep in range(args.repeats):
            order = BOTS if rep % 2 == 0 else BOTS[::-1]
            for scenario in ("burst", "mix", "paced", "one at a time"):
                for bot in order:
                    emulator, dispatched = emulators[bot], seen[bot]
                    if scenario == "burst":
                        name = f"burst: {args.users} users × /summary + /latest"
                        outcome = await run_scenario(bot, name, emulator, dispatched, kinds, burst_plan(args.users))
                    elif scenario == "mix":
                        name = f"mix: {args.users} users × 2 of 4 kinds"
                        plan = mix_plan(args.users, kinds)
                        outcome = await run_scenario(bot, name, emulator, dispatched, kinds, plan)
                    elif scenario == "paced":
                        name = f"paced: the burst at {args.paced_rate:g}/s"
                        plan = burst_plan(args.users)
                        outcome = await run_scenario(bot, name, emulator, dispatched, kinds, plan, pace=args.paced_rate)
                    else:
                        outcome = await sequential(bot, emulator, dispatched, kinds, args.sequential)
                    outcomes.append(outcome)
                    answered = outcome.answered
                    log(
                        f"  {rep + 1}/{args.repeats} {bot:32} {outcome.scenario:40} "
                        f"p50 {percentile([c.latency for c in answered], 50):7.1f} ms  "
                        f"p99 {percentile([c.latency for c in answered], 99):7.1f} ms"
                    )
                    await asyncio.sleep(0.2)  # let the bot settle (its last long poll) before the other runs
    print(latency_table(outcomes, database.label))
    print(segments_table(outcomes, database.label))
    print(kinds_table(outcomes, database.label))
    print(costs_table(costs, database.label))
    bursts = [o for o in outcomes if o.bot == NEWSBOT and o.scenario.startswith("burst")]
    latencies = [c.latency for o in bursts for c in o.answered]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"**Target ({database.label})**: the burst of {2 * args.users} commands, newsbot: p50 {p50:.0f} ms "
        f"(target {TARGET_P50:g}: {'met' if p50 <= TARGET_P50 else 'NOT met'}), p99 {p99:.0f} ms "
        f"(target {TARGET_P99:g}: {'met' if p99 <= TARGET_P99 else 'NOT met'}).\n"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, help="simulated users (default 200; --quick 50)")
    parser.add_argument("--repeats", type=int, help="repetitions of every scenario (default 3; --quick 1)")
    parser.add_argument("--paced-rate", type=float, default=50.0, help="commands a second when paced (default 50)")
    parser.add_argument("--sequential", type=int, help="one-at-a-time commands of each kind (default 20; --quick 5)")
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql (default sqlite)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="PostgreSQL server (a schema is made in it)")
    parser.add_argument("--quick", action="store_true", help="a smaller run")
    args = parser.parse_args(argv)
    args.users = args.users or (50 if args.quick else 200)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.sequential = args.sequential or (5 if args.quick else 20)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"sqlite", "postgresql"}:
        parser.error(f"unknown backends: {args.backends}")
    return args


async def run(args: argparse.Namespace) -> None:
    """Measure on each backend."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("# Command latency benchmark\n")
    print(
        f"- {code_version()}; Python {platform.python_version()}, python-telegram-bot {telegram.__version__}; "
        f"{os.cpu_count()} cores, load average before the run {load}\n"
        f"- {args.users} users, {args.repeats} repetitions, paced at {args.paced_rate:g}/s, "
        f"{args.sequential} one-at-a-time commands of each kind; "
        "the bots in this process, each emulator in a child process\n"
    )
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as workdir:
        for backend in args.backends:
            database = fresh_database(backend, Path(workdir), args.postgres_url, bench="commands")
            try:
                await measure(args, database)
            finally:
                database.drop()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command latency benchmark."""
    args = parse_args(argv)
    if "postgresql" in args.backends and (problem := postgres_problem(args.postgres_url)) is not None:
        log(f"skipping PostgreSQL: {problem}")
        args.backends.remove("postgresql")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
