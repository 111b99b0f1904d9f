"""A running bot for tests: the local Bot API emulator, the real Application, a SQLite database
holding the sample articles, and helpers to talk to it as a Telegram user would."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.app import run_bot
from bot.config import FetchSettings, Settings, SourceSettings, WebSettings, sample_source
from bot.emulator import BotAPIEmulator, Sent
from bot.services import open_services
from ingest import SourceKind

__all__ = ["ADMIN", "TOKEN", "USER", "BotEnv", "bot_env", "free_port", "make_settings", "running", "running_bot"]

TOKEN = "777:TESTTOKEN"
ADMIN = 9001
USER = 4242


def free_port() -> int:
    """Return a local port free now (for a webhook server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_settings(
    database_url: str, emulator: BotAPIEmulator, *, admins: Sequence[int] = (ADMIN,), **extra: Any
) -> Settings:
    """Return settings for a bot talking to `emulator` (unless `extra` names another telegram_api_url),
    reading the samples and a fake web source; no /healthz server (several bots run at once) unless
    `extra` gives a `web`."""
    sources = [
        sample_source(),
        # A web source the samples do not touch: /summary accepts its URLs and refuses others.
        SourceSettings(name="清河新闻网", kind=SourceKind.PAGE, url="http://127.0.0.1:9/news/1.html"),
    ]
    return Settings(
        token=SecretStr(TOKEN),
        database_url=database_url,
        admins=list(admins),
        sources=sources,
        fetch=FetchSettings(delay=0, retries=0, connect_timeout=1, read_timeout=2),
        **{"telegram_api_url": emulator.base_url, "web": WebSettings(listen="")} | extra,
    )


@dataclass
class BotEnv:
    """A bot running against the emulator."""

    emulator: BotAPIEmulator
    settings: Settings

    async def ask(
        self,
        text: str,
        *,
        user: int = USER,
        language: str = "zh-hans",
        timeout: float = 5.0,
        chat: int | None = None,
        anonymous: bool = False,
        reply_to: Sent | None = None,
    ) -> Sent:
        """Send `text` as `user` (in `chat`, by default theirs; `anonymous`: as the group; in reply to
        `reply_to`) and return the bot's next message to that chat."""
        return await self._next(
            lambda: self.emulator.send_text(
                user,
                text,
                chat_id=chat,
                language_code=language,
                first_name=f"用户{user}",
                anonymous=anonymous,
                reply_to=reply_to,
            ),
            chat_id=user if chat is None else chat,
            method="sendMessage",
            timeout=timeout,
        )

    async def press(
        self,
        sent: Sent,
        data: str,
        *,
        user: int = USER,
        method: str = "editMessageText",
        timeout: float = 5.0,
        forged: bool = False,
    ) -> Sent:
        """Press a button of `sent` (with `forged`, any data) and return the bot's next `method` record in that chat."""
        return await self._next(
            lambda: self.emulator.press(user, sent, data, forged=forged),
            chat_id=sent.chat_id,
            method=method,
            timeout=timeout,
        )

    async def _next(self, act: Callable[[], object], *, chat_id: int, method: str, timeout: float) -> Sent:
        with self.emulator.watch() as queue:
            act()
            async with asyncio.timeout(timeout):
                while True:
                    record = await queue.get()
                    if record.chat_id == chat_id and record.method == method:
                        return record


@pytest_asyncio.fixture
async def bot_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    """Yield a bot with the sample articles ingested, talking to a fresh emulator."""
    async with running_bot(f"sqlite:///{tmp_path / 'bot.db'}") as env:
        yield env


@contextlib.asynccontextmanager
async def running_bot(database_url: str, *, admins: Sequence[int] = (ADMIN,), **extra: Any) -> AsyncIterator[BotEnv]:
    """Run a bot with the sample articles ingested, talking to a fresh emulator, until the block ends
    (`extra`: settings other than the test defaults)."""
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(database_url, emulator, admins=admins, **extra)
        await _with_samples(settings)
        async with running(settings, emulator) as env:
            yield env


_SAMPLES_DB: list[Path] = []  # a SQLite file with the samples ingested once, copied for each bot


async def _with_samples(settings: Settings) -> None:
    """Store the sample articles in the settings' database: ingested, or on SQLite a copy of the file
    they were ingested into first (summarising them for every bot test took a minute a run)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        await _ingest_samples(settings)
        return
    if not _SAMPLES_DB:
        folder = Path(tempfile.mkdtemp(prefix="newsbot-samples-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        await _ingest_samples(settings.model_copy(update={"database_url": f"sqlite:///{folder / 'samples.db'}"}))
        _SAMPLES_DB.append(folder / "samples.db")  # closed: SQLite folded its WAL back into the file
    shutil.copyfile(_SAMPLES_DB[0], url.database)


async def _ingest_samples(settings: Settings) -> None:
    async with open_services(settings) as services:
        tally = await services.ingest(services.sources[0])
        assert tally.counts["new"] >= 5


@contextlib.asynccontextmanager
async def running(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[BotEnv]:
    """Run the bot with settings a test chose (no scheduler) until the block ends; yield it once it polls.

    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(url, emulator).model_copy(update={"flood": ...})
        async with running(settings, emulator) as env:
            reply = await env.ask("/help")
    """
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop=stop, schedule=False))
    # Polling starts right after deleteWebhook; updates sent before the first poll wait for it.
    async with asyncio.timeout(10):
        while not any(r.method == "deleteWebhook" for r in emulator.http_log):
            await asyncio.sleep(0.02)
    try:
        yield BotEnv(emulator, settings)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
