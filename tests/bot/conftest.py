"""Bot fixtures: a local Bot API emulator and a python-telegram-bot `Bot` that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.emulator import BotAPIEmulator


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[BotAPIEmulator]:
    """Serve a fresh emulator on a free local port for one test."""
    async with BotAPIEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture
async def bot(bot_api: BotAPIEmulator) -> AsyncIterator[Bot]:
    """Return an initialised PTB `Bot` wired to the emulator (short timeouts, a small pool)."""
    request = HTTPXRequest(connection_pool_size=4, connect_timeout=2, read_timeout=2, write_timeout=2, pool_timeout=2)
    async with Bot(bot_api.token, base_url=bot_api.base_url, base_file_url=bot_api.base_file_url, request=request) as b:
        yield b
