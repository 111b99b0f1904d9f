"""What the bot benchmarks (`bench/commands.py`, `bench/delivery.py`, `bench/soak.py`) share: the emulator,
a clock for it, and message fingerprints.

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
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._harness import ChildProcess, ServerProcesses, cpu_seconds, cpu_since, own_cpu  # noqa: E402
from bot.emulator import BotAPIEmulator  # noqa: E402

__all__ = ["TOKEN", "Clock", "EmulatorProcess", "TextRecord", "text_hash"]

TOKEN = "777:BENCHTOKEN"

Record = tuple[str, int, float]  # (method, chat id, emulator time.monotonic())
TextRecord = tuple[str, int, float, int, str]  # and the message id, the text's `text_hash`


def text_hash(text: str | None) -> str:
    """Return a short fingerprint of a message text: what tells two messages apart, not the text itself."""
    return hashlib.blake2b((text or "").encode(), digest_size=8).hexdigest()


@dataclass(slots=True)
class Clock:
    """Wall and CPU time of one measured run: this process, the emulator's, PostgreSQL's backends'."""

    emulator_pid: int | None = None
    postgres: ServerProcesses | None = None
    wall: float = 0.0
    cpu: float = 0.0
    emulator_cpu: float = 0.0
    db_cpu: float = 0.0
    _start: tuple[float, float, float, dict[int, float]] = field(default=(0.0, 0.0, 0.0, {}))

    def _read(self) -> tuple[float, float, float, dict[int, float]]:
        emulator = cpu_seconds(self.emulator_pid) if self.emulator_pid else 0.0
        db_pids = self.postgres.pids() if self.postgres else []
        return time.perf_counter(), own_cpu(), emulator, {pid: cpu_seconds(pid) for pid in db_pids}

    def start(self) -> None:
        """Start the clocks."""
        self._start = self._read()

    def stop(self) -> None:
        """Stop the clocks; a PostgreSQL backend that appeared meanwhile is charged all its CPU."""
        end = self._read()
        self.wall = end[0] - self._start[0]
        self.cpu = end[1] - self._start[1]
        self.emulator_cpu = end[2] - self._start[2]
        self.db_cpu = cpu_since(self._start[3], end[3])


# ── the emulator in a child process ───────────────────────────────────────────────────────


class EmulatorProcess(ChildProcess):
    """The Bot API emulator in a child process (this file run as a script)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__(Path(__file__).resolve(), "--token", token, limit=2**28)  # a line holds a run's records
        self.token = token

    @property
    def base_url(self) -> str:
        """Return the base URL for PTB (``http://127.0.0.1:PORT/bot``)."""
        return self.ready

    async def records(self) -> list[Record]:
        """Return what the bot did since the last call: (method, chat id, monotonic time)."""
        return [(str(m), int(c), float(a)) for m, c, a in json.loads(await self.ask("records"))]

    async def text_records(self) -> list[TextRecord]:
        """Return what the bot did since the last call, with each message's id and `text_hash`."""
        rows = json.loads(await self.ask("records texts"))
        return [(str(m), int(c), float(a), int(i), str(h)) for m, c, a, i, h in rows]

    async def send_text(self, user_id: int, text: str) -> tuple[int, float]:
        """Queue a user's message in their private chat; return its update id and when it was queued."""
        if "\n" in text:
            raise ValueError("one line per message on the pipe")
        update_id, at = json.loads(await self.ask(f"send {user_id} {text}"))
        return int(update_id), float(at)

    async def activity(self) -> tuple[list[tuple[str, int, float, str]], list[tuple[float, int]]]:
        """Return, since the last call, what the bot did ((method, chat id, time, `text_hash`)) and
        its getUpdates calls ((time, offset))."""
        data = json.loads(await self.ask("activity"))
        sent = [(str(m), int(c), float(a), str(h)) for m, c, a, h in data["sent"]]
        return sent, [(float(at), int(offset)) for at, offset in data["polls"]]

    async def send_texts(self, messages: Sequence[tuple[int, str]]) -> list[tuple[int, float]]:
        """Queue many users' messages in one go (a burst); return each one's update id and queued time."""
        rows = json.loads(await self.ask("sendmany " + json.dumps(messages, ensure_ascii=False)))
        return [(int(update_id), float(at)) for update_id, at in rows]

    async def delay(self, method: str, seconds: float) -> None:
        """Make the emulator wait before handling each call of `method` (0: no more)."""
        await self.ask(f"delay {method} {seconds}")  # "ok": the delay is in place


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
