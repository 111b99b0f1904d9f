"""What every speed benchmark shares: the code version, CPU clocks, percentiles and tables, fresh
databases, and the helper scripts (`bench/_site.py`, `bench/_bot.py`) in child processes."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import resource
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from storage import make_engine, upgrade  # noqa: E402

__all__ = [
    "BACKEND_LABELS",
    "POSTGRES_URL",
    "ROOT",
    "ChildProcess",
    "Database",
    "ServerProcesses",
    "SiteProcess",
    "code_version",
    "cpu_seconds",
    "cpu_since",
    "fresh_database",
    "libpq_url",
    "log",
    "markdown",
    "median",
    "migrated",
    "ms",
    "own_cpu",
    "percentile",
    "postgres_problem",
]

POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKEND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_TICK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    """Print progress on stderr."""
    print(message, file=sys.stderr, flush=True)


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


# ── clocks ────────────────────────────────────────────────────────────────────────────────


def cpu_seconds(pid: int, *, all_threads: bool = False) -> float:
    """Return the CPU seconds a process has used, 0 when it is gone or unreadable.

    By default its main thread's, from /proc/PID/schedstat in nanoseconds: a PostgreSQL backend
    that works 5 ms in a run needs that. `all_threads` (or no schedstat): every thread's, from
    /proc/PID/stat in clock ticks (10 ms).
    """
    if not all_threads:
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


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """Return the CPU seconds processes used between two readings (pid → `cpu_seconds`); one that
    appeared meanwhile is charged all its CPU."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def own_cpu() -> float:
    """Return the CPU seconds this process has used, every thread (the aiosqlite workers too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def ms(value: float, *, whole: bool = False) -> str:
    """Return milliseconds for a table: whole ones (`whole`, or from 100 up), else one decimal; "—" for NaN."""
    if math.isnan(value):
        return "—"
    return f"{value:.0f}" if whole or value >= 100 else f"{value:.1f}"


def markdown(
    headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None, *, aligned: bool = True
) -> str:
    """Return a Markdown table (`aligned`: right-aligned but for the first column), with a bold title line above."""
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(headers) + " |")
    marks = [":---"] + ["---:"] * (len(headers) - 1) if aligned else ["---"] * len(headers)
    lines.append("|" + "|".join(marks) + "|")
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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
class ServerProcesses:
    """A connection that finds the PostgreSQL backends serving a benchmark, by their application_name."""

    connection: psycopg.Connection[tuple[object, ...]]
    application_name: str

    def pids(self) -> list[int]:
        """Return the backends' process ids (this connection's own left out)."""
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
            (self.application_name,),
        ).fetchall()
        return [int(str(row[0])) for row in rows]

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


@dataclass(slots=True)
class Database:
    """An empty database made for one benchmark: its URL, and how to get rid of it."""

    backend: str
    url: str
    drop: Callable[[], None]
    monitor_url: str | None = None  # PostgreSQL: where to look for this benchmark's backends
    application_name: str = ""

    @property
    def label(self) -> str:
        """Return the backend's display name."""
        return BACKEND_LABELS[self.backend]

    def monitor(self) -> ServerProcesses | None:
        """Return what finds this benchmark's PostgreSQL backends, or None (SQLite)."""
        if self.monitor_url is None:
            return None
        return ServerProcesses(psycopg.connect(self.monitor_url, autocommit=True), self.application_name)


def fresh_database(backend: str, workdir: Path, postgres_url: str, *, bench: str) -> Database:
    """Create an empty database for benchmark `bench`: a SQLite file in workdir, or a PostgreSQL
    schema of its own, whose connections are named ``newsbot-bench-{bench}``."""
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"

        def unlink() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return Database(backend, f"sqlite:///{path}", unlink)
    schema = f"bench_{bench}_{uuid.uuid4().hex[:12]}"
    application_name = f"newsbot-bench-{bench}"
    libpq = libpq_url(postgres_url)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

    def drop_schema() -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            # IF EXISTS: `migrated` drops a database it failed to migrate, and its owner may drop it again.
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    query = {"options": f"-c search_path={schema}", "application_name": application_name}
    url = make_url(postgres_url).update_query_dict(query).render_as_string(hide_password=False)
    return Database(backend, url, drop_schema, monitor_url=libpq, application_name=application_name)


async def migrated(database: Database) -> AsyncEngine:
    """Migrate a fresh database to the newest schema and return an engine on it; drop it if that fails."""
    try:
        await asyncio.to_thread(upgrade, database.url)  # Alembic runs its own event loop
        return make_engine(database.url)
    except BaseException:
        database.drop()
        raise


# ── helper scripts in child processes ─────────────────────────────────────────────────────


class ChildProcess:
    """A helper script of bench/ in a child process, so that its work is not on the measured event
    loop nor under its GIL: it prints its base URL(s) on one line once it listens, answers each
    command line on stdin with one line, and stops at the end of its input."""

    def __init__(self, script: Path, *args: str, limit: int = 2**16) -> None:
        self.command = [sys.executable, str(script), *args]
        self.ready = ""  # the line it printed once listening
        self.pid = 0
        self._limit = limit  # the longest answer line
        self._child: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()  # one question on the pipe at a time: answers come back in order

    async def __aenter__(self) -> Self:
        self._child = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=self._limit
        )
        self.pid = self._child.pid
        assert self._child.stdout is not None
        self.ready = (await self._child.stdout.readline()).decode().strip()
        if not self.ready.startswith("http://"):
            await self._stop()
            raise RuntimeError(f"{Path(self.command[1]).name} did not start (exit status {self._child.returncode})")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _stop(self) -> None:
        """End its input, and kill it if it has not stopped 10 s later."""
        child = self._child
        if child is None:
            return
        if child.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), timeout=10)
        except TimeoutError:
            child.kill()
            await child.wait()

    async def ask(self, line: str) -> str:
        """Send one command line and return the one-line answer."""
        assert self._child is not None and self._child.stdin is not None and self._child.stdout is not None
        async with self._turn:
            self._child.stdin.write(line.encode() + b"\n")
            await self._child.stdin.drain()
            return (await self._child.stdout.readline()).decode()


class SiteProcess(ChildProcess):
    """The synthetic news site (`bench/_site.py`) in a child process, serving `pages` article pages.

    `corpus` gives it more sentences; `growth` options (``sources``, ``initial``, ``per_publish``,
    ``links``) make it sites that publish (see that module's docstring).
    """

    def __init__(self, pages: int, *, corpus: Path | None = None, **growth: int) -> None:
        options = ["--corpus", str(corpus)] if corpus is not None else []
        for name, value in growth.items():
            options += [f"--{name.replace('_', '-')}", str(value)]
        super().__init__(Path(__file__).with_name("_site.py"), "--pages", str(pages), *options)
        self.pages = pages

    @property
    def bases(self) -> list[str]:
        """Return the base URL of each source (one site: one URL)."""
        return self.ready.split()

    async def publish(self) -> int:
        """Add the next articles to every source; return how many are published in all."""
        return int(await self.ask("publish"))
