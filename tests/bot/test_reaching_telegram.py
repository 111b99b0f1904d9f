"""How the bot reaches the Bot API: the server's URL in either form, a proxy for every call, and a
stop that leaves no error in the log."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bot.app import run_bot
from bot.emulator import BotAPIEmulator
from bot.transport import environment_proxy
from tests.bot.botenv import TOKEN, USER, make_settings, running
from tests.proxies import Kind, serve_proxy

HOST = "api.telegram.invalid"  # resolves nowhere (RFC 6761): only the proxy reaches the emulator under it


@pytest.fixture(autouse=True)
def _no_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["root", "base_url"])
async def test_the_api_url_works_as_the_servers_root_and_as_ptbs_base_url(form: str, tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        url = emulator.base_url.removesuffix("/bot") if form == "root" else emulator.base_url
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator, telegram_api_url=url)
        async with running(settings, emulator) as env:
            reply = await env.ask("/help")
    assert [r.status for r in emulator.http_log if r.method == "getMe"] == [200]
    assert "/latest" in (reply.text or "")


@pytest.mark.asyncio
async def test_without_a_proxy_the_emulator_under_that_name_is_out_of_reach(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}", emulator, telegram_api_url=f"http://{HOST}:{emulator.port}"
        )
        with pytest.raises(NetworkError, match=HOST):
            await run_bot(settings, stop=asyncio.Event(), schedule=False)
    assert emulator.http_log == []


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["http", "socks5"])
async def test_every_call_goes_through_the_configured_proxy(kind: Kind, tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator, serve_proxy(kind, {HOST: emulator.host}) as proxy:
        settings = make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}",
            emulator,
            telegram_api_url=f"http://{HOST}:{emulator.port}",
            telegram_proxy=proxy.url,
        )
        async with running(settings, emulator) as env:
            reply = await env.ask("/help")
    assert "/latest" in (reply.text or "")
    assert {"getMe", "getUpdates", "sendMessage"} <= set(proxy.methods)
    # Every call the emulator answered came through the proxy (and the long poll cut short at the stop).
    assert Counter(r.method for r in emulator.http_log) <= Counter(proxy.methods)
    assert set(proxy.tunnels) == {(HOST, emulator.port)}


@pytest.mark.asyncio
async def test_without_a_proxy_setting_the_environments_proxy_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator, serve_proxy("http", {HOST: emulator.host}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        settings = make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}", emulator, telegram_api_url=f"http://{HOST}:{emulator.port}"
        )
        async with running(settings, emulator) as env:
            await env.ask("/help")
    assert {"getMe", "getUpdates", "sendMessage"} <= set(proxy.methods)
    assert Counter(r.method for r in emulator.http_log) <= Counter(proxy.methods)


@pytest.mark.parametrize(
    ("environment", "url", "expected"),
    [
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://api.telegram.org", "http://proxy:3128"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8081", None),  # HTTP_PROXY's business
        ({"ALL_PROXY": "socks5://proxy:1080"}, "https://api.telegram.org", "socks5://proxy:1080"),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "telegram.org"}, "https://api.telegram.org", None),
        ({}, "https://api.telegram.org", None),
    ],
)
def test_the_environments_proxy_for_a_url(
    environment: dict[str, str], url: str, expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == expected


@dataclass
class Process:
    """A `newsbot run` process and what it printed so far."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace"))

    async def printed(self, text: str, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in line for line in self.lines):
                assert self.process.returncode is None, "".join(self.lines)
                await asyncio.sleep(0.05)


async def newsbot_run(emulator: BotAPIEmulator, tmp_path: Path, **env: str) -> Process:
    """Start `newsbot run` against `emulator` with a SQLite database of its own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {
        "NEWSBOT_TOKEN": TOKEN,
        "NEWSBOT_WEB__LISTEN": "",  # no health server: processes beside each other would share its port
        "NEWSBOT_TELEGRAM_API_URL": emulator.base_url,
        "NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "NEWSBOT_INGEST__WORKERS": "0",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return Process(process)


async def answer_then_sigterm(emulator: BotAPIEmulator, bot: Process) -> int:
    """Have the bot answer /help, then SIGTERM it mid long poll; return its exit code."""
    emulator.send_text(USER, "/help")
    await emulator.wait_for(lambda sent: sent.chat_id == USER and sent.method == "sendMessage", timeout=15)
    await asyncio.sleep(0.5)  # the next long poll is waiting now
    bot.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        return await bot.process.wait()


@pytest.mark.asyncio
async def test_sigterm_mid_long_poll_stops_without_an_error_in_a_log_that_reads(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        bot = await newsbot_run(emulator, tmp_path)
        reading = asyncio.create_task(bot.read())
        await bot.printed("ingest 示例: ")
        code = await answer_then_sigterm(emulator, bot)
        await reading
    log = "".join(bot.lines)
    assert code == 0, log
    assert " ERROR " not in log and "Traceback" not in log, log
    # The last call confirmed the update handled, at once (no long poll), so it is not handled again.
    last = [r for r in emulator.http_log if r.method == "getUpdates"][-1]
    assert (last.status, int(last.params["timeout"])) == (200, 0)
    assert int(last.params["offset"]) > 0
    # The jobs by name, each run's tally in words, and none of APScheduler's lines about every run.
    assert "INFO bot.app: leading: this process runs the scheduled jobs (ingest 示例, digests)" in log
    assert "INFO bot.jobs: ingest 示例: 5 new, 0 failed" in log
    assert "apscheduler" not in log


@pytest.mark.asyncio
async def test_the_log_level_setting_holds_for_newsbot_run(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        bot = await newsbot_run(emulator, tmp_path, NEWSBOT_LOG_LEVEL="warning")
        reading = asyncio.create_task(bot.read())
        async with asyncio.timeout(15):  # polling starts right after deleteWebhook
            while not any(r.method == "deleteWebhook" for r in emulator.http_log):
                await asyncio.sleep(0.05)
        code = await answer_then_sigterm(emulator, bot)
        await reading
    assert code == 0
    assert bot.lines == []  # a clean run says nothing at WARNING
