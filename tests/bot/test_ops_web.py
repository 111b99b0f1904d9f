"""/healthz and /metrics of a running bot, over real HTTP on `[web] listen`."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bot.app import run_bot
from bot.config import ConfigError, WebSettings
from bot.emulator import BotAPIEmulator
from tests.bot.botenv import TOKEN, BotEnv, free_port, make_settings, running_bot

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def env(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[BotEnv]:
    """Yield a running bot serving /healthz and /metrics on a free port, once its sender runs."""
    caplog.set_level(logging.INFO)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}")
    async with running_bot(f"sqlite:///{tmp_path / 'bot.db'}", web=web) as env:
        async with asyncio.timeout(5):
            while not any(r.getMessage() == "newsbot is running" for r in caplog.records):
                await asyncio.sleep(0.02)
        yield env


def _url(env: BotEnv, path: str) -> str:
    return f"http://{env.settings.web.listen}{path}"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a Prometheus text by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_healthy_then_503_once_the_database_file_is_gone(env: BotEnv) -> None:
    async with httpx.AsyncClient() as client:
        healthy = await client.get(_url(env, "/healthz"))
        assert (healthy.status_code, healthy.json()) == (200, {"database": True, "sender": True})

        Path(make_url(env.settings.database_url).database or "").unlink()
        gone = await client.get(_url(env, "/healthz"))
        assert (gone.status_code, gone.json()) == (503, {"database": False, "sender": True})


async def test_metrics_count_the_outbox_and_time_the_commands(env: BotEnv) -> None:
    await env.ask("/help")
    await env.ask("/nosuchcommand")
    other = ("newsbot_command_seconds_count", (("kind", "other_command"),))
    async with httpx.AsyncClient() as client, asyncio.timeout(5):
        # A handling is timed once it returns, a moment after its answer reached the emulator.
        while other not in (samples := _samples((response := await client.get(_url(env, "/metrics"))).text)):
            await asyncio.sleep(0.02)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    # Nothing was enqueued: every status is there, at zero.
    assert samples[("newsbot_outbox_rows", (("status", "pending"),))] == 0
    assert samples[("newsbot_outbox_rows", (("status", "sent"),))] == 0
    assert samples[("newsbot_command_seconds_count", (("kind", "help"),))] == 1
    assert samples[other] == 1
    assert 0 < samples[("newsbot_command_seconds_sum", (("kind", "help"),))] < 5
    assert ("newsbot_command_seconds_bucket", (("kind", "help"), ("le", "+Inf"))) in samples


async def test_an_address_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with BotAPIEmulator(token=TOKEN) as emulator:
            web = WebSettings(listen=f"127.0.0.1:{port}")
            settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator, web=web)
            with pytest.raises(ConfigError, match=f"cannot serve web.listen 127.0.0.1:{port}: "):
                await asyncio.wait_for(run_bot(settings, stop=asyncio.Event(), schedule=False), 10)
