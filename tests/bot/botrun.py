"""Run the bot with settings a test chose (its own sources, limits or database) against the emulator.

async with BotAPIEmulator(token=TOKEN) as emulator:
    settings = make_settings(url, emulator).model_copy(update={"flood": ...})
    async with running(settings, emulator) as env:
        reply = await env.ask("/help")
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.app import run_bot
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from tests.bot.botenv import BotEnv

__all__ = ["running"]


@contextlib.asynccontextmanager
async def running(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[BotEnv]:
    """Run the bot (no scheduler) until the block ends; yield it once it polls."""
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
