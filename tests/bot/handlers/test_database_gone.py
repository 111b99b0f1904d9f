"""The SQLite file deleted under a running bot: writes are refused, and the user is told so."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from bot.callbacks import Action, encode
from tests.bot.botenv import USER, BotEnv, running_bot

pytestmark = pytest.mark.asyncio

NOT_SAVED = "暂时无法保存，请稍后再试。"


@pytest_asyncio.fixture
async def env(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[BotEnv]:
    """Yield a running bot whose start-up is logged at INFO too."""
    caplog.set_level(logging.INFO)
    async with running_bot(f"sqlite:///{tmp_path / 'bot.db'}") as env:
        yield env


async def test_a_subscribe_after_the_file_is_deleted_is_not_claimed(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    # Not while start-up still reads (waiting reports): delete it from under a bot that runs.
    async with asyncio.timeout(5):
        while not any(r.getMessage() == "newsbot is running" for r in caplog.get_records("setup") + caplog.records):
            await asyncio.sleep(0.02)
    welcome = await env.ask("/start")
    path = Path(make_url(env.settings.database_url).database or "")
    path.unlink()
    start = len(env.emulator.sent)

    refused = await env.ask("/subscribe 07:30")
    assert refused.text == NOT_SAVED
    pressed = await env.press(welcome, encode(Action.SUBSCRIBE), method="sendMessage")
    assert pressed.text == NOT_SAVED
    report = await env.ask("/report 某路段积水")
    assert report.text == NOT_SAVED

    said = [r.text or "" for r in env.emulator.sent[start:] if r.chat_id == USER]
    assert not any("已订阅" in text or "已收到" in text for text in said), said
    assert not path.exists()  # nothing made a fresh, empty file in its place
    gone = [r for r in caplog.records if r.levelno == logging.ERROR and "deleted or replaced" in r.getMessage()]
    assert len(gone) == 1  # once, not once a request
