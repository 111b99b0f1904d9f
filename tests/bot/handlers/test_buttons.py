"""Buttons that carry their state: old messages' buttons after a restart, two searches' [更多],
summary ⇄ full text, the filter list, digest times and time zones, and following sources."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.emulator import BotAPIEmulator, Sent
from bot.pipeline import ingest_targets
from bot.services import open_services
from tests.bot.botenv import TOKEN, make_settings, running

pytestmark = pytest.mark.asyncio


def buttons(sent: Sent) -> dict[str, str]:
    """Return the callback buttons of a message: caption → data."""
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def articles(folder: Path, word: str, count: int) -> list[str]:
    """Write `count` article files about `word`, each of its own words, so none is a repost of another."""
    rng = random.Random(word)
    paths = []
    for n in range(count):
        body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(300))
        path = folder / f"{word}{n}.txt"
        path.write_text(f"{word}第{n}篇\n来源：测试\n{word}{body}。\n", encoding="utf-8")
        paths.append(str(path))
    return paths


async def test_two_searches_page_through_their_own_words_after_a_restart_too(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator)
        async with open_services(settings) as services:
            targets = articles(tmp_path, "中国", 12) + articles(tmp_path, "发展", 12)
            tally = await ingest_targets(targets, fetcher=services.fetcher, sessions=services.sessions)
            assert tally.counts["new"] == 24, tally
        async with running(settings, emulator) as env:
            china = await env.ask("/search 中国")
            growth = await env.ask("/search 发展")
            assert "中国第" in (china.text or "") and "发展第" in (growth.text or "")
            more = await env.press(china, buttons(china)["更多"], method="sendMessage")
            assert "搜索：中国" in (more.text or "") and "中国第" in (more.text or "")
            assert "发展第" not in (more.text or "")
        async with running(settings, emulator) as env:  # a new process on the same database
            again = await env.press(growth, buttons(growth)["更多"], method="sendMessage")
            assert "搜索：发展" in (again.text or "") and "发展第" in (again.text or "")
            assert "中国第" not in (again.text or "")
