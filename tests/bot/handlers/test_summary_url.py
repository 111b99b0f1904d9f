"""`/summary URL` of a page of a configured source, served by the local test site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import SourceSettings
from bot.emulator import BotAPIEmulator
from ingest import SourceKind
from tests.bot.botenv import TOKEN, BotEnv, make_settings, running
from tests.pageserver import PageServer

pytestmark = pytest.mark.asyncio

TITLE = "<b>17种产品、1个园区入选国家绿色制造名单</b>"  # the saved Yunnan Daily page


@pytest_asyncio.fixture
async def site_bot(tmp_path: Path, page_server: PageServer) -> AsyncIterator[BotEnv]:
    """Yield a bot whose only source is the local site, with nothing stored yet."""
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator)
        source = SourceSettings(
            name="本地新闻网", kind=SourceKind.PAGE, url=page_server.url("/pages/yunnan-daily.html")
        )
        async with running(settings.model_copy(update={"sources": [source]}), emulator) as env:
            yield env


async def test_a_repost_is_summarised_the_first_time_it_is_asked_for(site_bot: BotEnv, page_server: PageServer) -> None:
    original = await site_bot.ask(f"/summary {page_server.url('/pages/yunnan-daily.html')}")
    assert (original.text or "").startswith(TITLE)
    # The same page at another address is stored as a repost of the first, with no summary of its own.
    repost = await site_bot.ask(f"/summary {page_server.url('/pages/yunnan-daily-nocharset.html')}")
    assert repost.text == original.text
    assert page_server.hits["/pages/yunnan-daily-nocharset.html"] == 1
    again = await site_bot.ask(f"/summary {page_server.url('/pages/yunnan-daily-nocharset.html')}")
    assert again.text == original.text and page_server.hits["/pages/yunnan-daily-nocharset.html"] == 1  # stored


async def test_a_url_is_one_whatever_the_case_of_its_scheme(site_bot: BotEnv, page_server: PageServer) -> None:
    shouted = page_server.url("/pages/yunnan-daily.html").replace("http://", "HTTP://")
    assert ((await site_bot.ask(f"/summary {shouted}")).text or "").startswith(TITLE)
    foreign = await site_bot.ask("/summary HtTpS://Example.com/x")
    assert "只能摘要已配置来源的网址" in (foreign.text or "")
