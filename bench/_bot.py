"""What `bench/delivery.py` and `bench/commands.py` share: databases, the emulator, clocks and tables.

Run as a script, this module is the local Bot API emulator in a process of its own::

    python bench/_bot.py --token 777:BENCH

It prints the base URL for PTB (``http://127.0.0.1:PORT/bot``) on one line once it listens, then
reads commands on stdin: ``records`` answers one JSON line, ``[[method, chat_id, at], …]``, what the
bot did since the last ``records`` (``at`` is the emulator's ``time.monotonic()``, the same clock in
every process on Linux); ``records texts`` the same with the message id and `text_hash` of the text
added to each; ``send USER TEXT`` queues a user's message and answers ``[update_id, at]``;
``delay METHOD SECONDS`` makes it wait before handling each such call (a network round trip; 0
stops) and answers ``ok``; ``quit`` or end of input stops it. A child process keeps the emulator's
request handling off the measured event loop and out from under its GIL, as Telegram's servers are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.emulator import BotAPIEmulator  # noqa: E402

__all__ = [
    "BACKEND_LABELS",
    "POSTGRES_URL",
    "ROOT",
    "TOKEN",
    "Clock",
    "Database",
    "EmulatorProcess",
    "code_version",
    "cpu_seconds",
    "fresh_database",
    "libpq_url",
    "log",
    "markdown",
    "median",
    "percentile",
    "postgres_problem",
    "text_hash",
]

TOKEN = "777:BENCHTOKEN"
POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKEND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
APPLICATION_NAME = "newsbot-bench-bot"  # how this benchmark's PostgreSQL backends are found
_TICK = os.sysconf("SC_CLK_TCK")

Record = tuple[str, int, float]  # (method, chat id, emulator time.monotonic())
TextRecord = tuple[str, int, float, int, str]  # and the message id, the text's `text_hash`


def log(message: str) -> None:
    """Print progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def text_hash(text: str | None) -> str:
    """Return a short fingerprint of a message text: what tells two messages apart, not the text itself."""
    return hashlib.blake2b((text or "").encode(), digest_size=8).hexdigest()


def code_version() -> str:
    """Return the commit the package code is at, and whether the working tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"code at {ROOT} (not a git checkout)"
    return f"code at {commit}" + (" plus uncommitted changes to tracked files" if dirty else "")


# ── numbers and tables ────────────────────────────────────────────────────────────────────


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values, interpolating between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """Return the median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def markdown(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> str:
    """Return a Markdown table (right-aligned but for the first column), with a bold title line above."""
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """Return the CPU seconds a (single-threaded) process has used, 0 when it is gone or unreadable.

    /proc/PID/schedstat counts nanoseconds; /proc/PID/stat, the fallback, counts clock ticks (10 ms),
    too coarse for a PostgreSQL backend that works 5 ms in a run.
    """
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread: the aiosqlite workers too
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class Clock:
    """Wall and CPU time of one measured run: this process, the emulator's, PostgreSQL's backends'."""

    emulator_pid: int | None = None
    postgres: psycopg.Connection[tuple[object, ...]] | None = None
    wall: float = 0.0
    cpu: float = 0.0
    emulator_cpu: float = 0.0
    db_cpu: float = 0.0
    _start: tuple[float, float, float, dict[int, float]] = field(default=(0.0, 0.0, 0.0, {}))

    def _db_pids(self) -> list[int]:
        if self.postgres is None:
            return []
        rows = self.postgres.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
            (APPLICATION_NAME,),
        ).fetchall()
        return [int(str(row[0])) for row in rows]

    def _read(self) -> tuple[float, float, float, dict[int, float]]:
        emulator = cpu_seconds(self.emulator_pid) if self.emulator_pid else 0.0
        return time.perf_counter(), _own_cpu(), emulator, {pid: cpu_seconds(pid) for pid in self._db_pids()}

    def start(self) -> None:
        """Start the clocks."""
        self._start = self._read()

    def stop(self) -> None:
        """Stop the clocks; a PostgreSQL backend that appeared meanwhile is charged all its CPU."""
        end = self._read()
        self.wall = end[0] - self._start[0]
        self.cpu = end[1] - self._start[1]
        self.emulator_cpu = end[2] - self._start[2]
        self.db_cpu = sum(cpu - self._start[3].get(pid, 0.0) for pid, cpu in end[3].items())


# ── databases ─────────────────────────────────────────────────────────────────────────────


def libpq_url(url: str) -> str:
    """Return `url` as psycopg (libpq) takes it: no SQLAlchemy driver name, the password kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_problem(url: str) -> str | None:
    """Return why PostgreSQL cannot be used, or None."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {make_url(url).render_as_string()}: {str(exc).strip()}"


@dataclass(slots=True)
class Database:
    """An empty database made for one benchmark: its URL, and how to get rid of it."""

    backend: str
    url: str
    drop: Callable[[], None]
    monitor_url: str | None = None  # PostgreSQL: where to look for this benchmark's backends

    @property
    def label(self) -> str:
        """Return the backend's display name."""
        return BACKEND_LABELS[self.backend]

    def monitor(self) -> psycopg.Connection[tuple[object, ...]] | None:
        """Return a connection to read this database's backends from (PostgreSQL), or None."""
        return psycopg.connect(self.monitor_url, autocommit=True) if self.monitor_url else None


def fresh_database(backend: str, workdir: Path, postgres_url: str) -> Database:
    """Create an empty database: a SQLite file in workdir, or a PostgreSQL schema of its own."""
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"

        def unlink() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return Database(backend, f"sqlite:///{path}", unlink)
    schema = f"bench_bot_{uuid.uuid4().hex[:12]}"
    libpq = libpq_url(postgres_url)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

    def drop_schema() -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    query = {"options": f"-c search_path={schema}", "application_name": APPLICATION_NAME}
    url = make_url(postgres_url).update_query_dict(query).render_as_string(hide_password=False)
    return Database(backend, url, drop_schema, monitor_url=libpq)


# ── the emulator in a child process ───────────────────────────────────────────────────────


class EmulatorProcess:
    """The Bot API emulator in a child process (this file run as a script)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.base_url = ""
        self.pid = 0
        self._child: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()  # one question on the pipe at a time: answers come back in order

    async def __aenter__(self) -> EmulatorProcess:
        self._child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--token",
            self.token,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**28,  # one line holds every record of a run
        )
        assert self._child.stdout is not None
        self.base_url = (await self._child.stdout.readline()).decode().strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator process did not start (exit status {self._child.returncode})")
        self.pid = self._child.pid
        return self

    async def __aexit__(self, *exc: object) -> None:
        child = self._child
        if child is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            assert child.stdin is not None
            child.stdin.write(b"quit\n")
            await child.stdin.drain()
        try:
            await asyncio.wait_for(child.wait(), timeout=10)
        except TimeoutError:
            child.kill()
            await child.wait()

    async def _ask(self, line: str) -> bytes:
        """Send one command line and return the one-line answer."""
        assert self._child is not None and self._child.stdin is not None and self._child.stdout is not None
        async with self._turn:
            self._child.stdin.write(line.encode() + b"\n")
            await self._child.stdin.drain()
            return await self._child.stdout.readline()

    async def records(self) -> list[Record]:
        """Return what the bot did since the last call: (method, chat id, monotonic time)."""
        return [(str(m), int(c), float(a)) for m, c, a in json.loads(await self._ask("records"))]

    async def text_records(self) -> list[TextRecord]:
        """Return what the bot did since the last call, with each message's id and `text_hash`."""
        rows = json.loads(await self._ask("records texts"))
        return [(str(m), int(c), float(a), int(i), str(h)) for m, c, a, i, h in rows]

    async def send_text(self, user_id: int, text: str) -> tuple[int, float]:
        """Queue a user's message in their private chat; return its update id and when it was queued."""
        if "\n" in text:
            raise ValueError("one line per message on the pipe")
        update_id, at = json.loads(await self._ask(f"send {user_id} {text}"))
        return int(update_id), float(at)

    async def activity(self) -> tuple[list[tuple[str, int, float, str]], list[tuple[float, int]]]:
        """Return, since the last call, what the bot did ((method, chat id, time, `text_hash`)) and
        its getUpdates calls ((time, offset))."""
        data = json.loads(await self._ask("activity"))
        sent = [(str(m), int(c), float(a), str(h)) for m, c, a, h in data["sent"]]
        return sent, [(float(at), int(offset)) for at, offset in data["polls"]]

    async def send_texts(self, messages: Sequence[tuple[int, str]]) -> list[tuple[int, float]]:
        """Queue many users' messages in one go (a burst); return each one's update id and queued time."""
        rows = json.loads(await self._ask("sendmany " + json.dumps(messages, ensure_ascii=False)))
        return [(int(update_id), float(at)) for update_id, at in rows]

    async def delay(self, method: str, seconds: float) -> None:
        """Make the emulator wait before handling each call of `method` (0: no more)."""
        await self._ask(f"delay {method} {seconds}")  # "ok": the delay is in place


async def _serve(token: str) -> None:
    """Serve the emulator, answering ``records`` on stdin, until ``quit`` or end of input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with BotAPIEmulator(token=token) as emulator:
        print(emulator.base_url, flush=True)
        while (line := (await reader.readline()).decode().strip()) not in ("", "quit"):
            if line == "records":
                rows: list[list[object]] = [[r.method, r.chat_id, r.at] for r in emulator.sent]
                emulator.clear()
                sys.stdout.write(json.dumps(rows) + "\n")
            elif line == "records texts":
                rows = [[r.method, r.chat_id, r.at, r.message_id, text_hash(r.text)] for r in emulator.sent]
                emulator.clear()
                sys.stdout.write(json.dumps(rows) + "\n")
            elif line.startswith("send "):
                _, user, text = line.split(" ", 2)
                update = emulator.send_text(int(user), text)
                sys.stdout.write(json.dumps([update["update_id"], time.monotonic()]) + "\n")
            elif line == "activity":
                sent = [[r.method, r.chat_id, r.at, text_hash(r.text)] for r in emulator.sent]
                polls = [[r.at, r.params.get("offset") or 0] for r in emulator.http_log if r.method == "getUpdates"]
                emulator.clear()
                sys.stdout.write(json.dumps({"sent": sent, "polls": polls}) + "\n")
            elif line.startswith("sendmany "):
                queued = []
                for user, text in json.loads(line.removeprefix("sendmany ")):
                    update = emulator.send_text(int(user), str(text))
                    queued.append([update["update_id"], time.monotonic()])
                sys.stdout.write(json.dumps(queued) + "\n")
            elif line.startswith("delay "):
                _, method, seconds = line.split()
                emulator.delay(method, float(seconds))
                sys.stdout.write("ok\n")
            sys.stdout.flush()


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Bot API emulator for the benchmarks in a child process.")
    parser.add_argument("--token", default=TOKEN)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.token))


if __name__ == "__main__":
    _main()
