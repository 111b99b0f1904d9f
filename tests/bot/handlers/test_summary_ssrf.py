"""SSRF through the bot and the ingest run: `/summary URL` and list pages cannot reach unnamed local addresses.

The configured source is a local server named by its literal address (allowed); a second server
on another port plays the internal service that no source names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import pytest_asyncio

from bot.config import SourceSettings
from bot.emulator import BotAPIEmulator
from bot.services import open_services
from ingest import SourceKind
from tests.bot.botenv import TOKEN, BotEnv, make_settings, running
from tests.hostileserver import HostileServer

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def local_bot(tmp_path: Path, hostile_server: HostileServer) -> AsyncIterator[BotEnv]:
    """Yield a bot whose only web source is the hostile server, named by 127.0.0.1 and its port."""
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator)
        source = SourceSettings(name="本地新闻网", kind=SourceKind.PAGE, url=hostile_server.url("/page"))
        async with running(settings.model_copy(update={"sources": [source]}), emulator) as env:
            yield env


async def test_summary_of_a_url_redirecting_to_an_internal_address_is_refused(
    local_bot: BotEnv, hostile_server: HostileServer, hostile_server_2: HostileServer
) -> None:
    url = hostile_server.url("/to?url=" + quote(hostile_server_2.url("/page"), safe=""))
    reply = await local_bot.ask(f"/summary {url}")
    assert reply.text == "无法读取该网页：该地址指向内部网络，不允许访问。"  # the reason, in Chinese
    assert hostile_server.hits["/to"] == 1
    assert hostile_server_2.hits["/page"] == 0
    # The named source itself still works.
    page = await local_bot.ask(f"/summary {hostile_server.url('/page')}")
    assert (page.text or "").startswith("<b>测试")


async def test_a_page_that_cannot_be_read_is_explained_in_the_users_language(
    local_bot: BotEnv, hostile_server: HostileServer
) -> None:
    missing = await local_bot.ask(f"/summary {hostile_server.url('/missing')}")
    assert missing.text == "无法读取该网页：网站返回了错误（HTTP 404）。"
    english = await local_bot.ask(f"/summary {hostile_server.url('/missing')}", language="en")
    assert english.text == "Could not read that page: the site answered with an error (HTTP 404)."
    empty = await local_bot.ask(f"/summary {hostile_server.url('/list')}")  # a page with no article on it
    assert empty.text == "无法读取该网页：网页中没有找到文章。"


async def test_ingest_run_refuses_an_internal_link_and_goes_on(
    tmp_path: Path, hostile_server: HostileServer, hostile_server_2: HostileServer
) -> None:
    # Same host, another port: a list page keeps it (links off the site's host are dropped before fetching).
    links = [hostile_server_2.url("/page"), hostile_server.url("/page")]
    listing = SourceSettings(
        name="本地新闻网",
        kind=SourceKind.LISTPAGE,
        url=hostile_server.url("/list?" + urlencode([("u", link) for link in links])),
        link_selector="ul.news li",
    )
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator).model_copy(update={"sources": [listing]})
    async with open_services(settings) as services:
        tally = await services.ingest(services.sources[0])
    assert tally.counts == {"failed": 1, "new": 1}
    assert len(tally.errors) == 1 and "no source names it" in tally.errors[0]
    assert hostile_server_2.hits["/page"] == 0
