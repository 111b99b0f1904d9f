"""A bot on an emulator: the local Bot API server (`emulator`) and a python-telegram-bot `Bot`
wired to it (`bot`, or `telegram_bot()` where a test needs its own timeouts)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest_asyncio
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.emulator import BotAPIEmulator

__all__ = ["bot", "emulator", "telegram_bot"]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """Serve a fresh emulator on a free local port for one test."""
    async with BotAPIEmulator() as served:
        yield served


@contextlib.asynccontextmanager
async def telegram_bot(emulator: BotAPIEmulator, *, read_timeout: float = 5) -> AsyncIterator[Bot]:
    """Yield an initialised PTB Bot on the emulator, with a pool as wide as the sender's concurrency."""
    request = HTTPXRequest(
        connection_pool_size=16, connect_timeout=5, read_timeout=read_timeout, write_timeout=5, pool_timeout=5
    )
    async with Bot(
        emulator.token, base_url=emulator.base_url, base_file_url=emulator.base_file_url, request=request
    ) as bot:
        yield bot


@pytest_asyncio.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    """Yield a PTB Bot on this test's emulator."""
    async with telegram_bot(emulator) as b:
        yield b
