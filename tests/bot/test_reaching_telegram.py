"""How the bot reaches the Bot API: the server's URL in either form, a proxy for every call, and a
stop that leaves no error in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.emulator import BotAPIEmulator
from tests.bot.botenv import TOKEN, make_settings, running

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("form", ["root", "base_url"])
async def test_the_api_url_works_as_the_servers_root_and_as_ptbs_base_url(form: str, tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        url = emulator.base_url.removesuffix("/bot") if form == "root" else emulator.base_url
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator, telegram_api_url=url)
        async with running(settings, emulator) as env:
            reply = await env.ask("/help")
    assert [r.status for r in emulator.http_log if r.method == "getMe"] == [200]
    assert "/latest" in (reply.text or "")
