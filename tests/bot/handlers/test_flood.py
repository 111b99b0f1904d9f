"""Flood protection: a per-user token bucket, one polite answer, then silence until it refills."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import FloodSettings, Settings, load_settings
from bot.emulator import BotAPIEmulator
from bot.handlers.flood import FloodLimiter, Verdict
from tests.bot.botenv import ADMIN, TOKEN, USER, BotEnv, make_settings, running

OTHER = 5151
LIMIT = FloodSettings(commands=3, seconds=3)  # a token a second


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_warns_once_then_drops_until_refilled() -> None:
    clock = Clock()
    limiter = FloodLimiter(3, 3.0, clock=clock)
    assert [limiter.check(USER) for _ in range(6)] == [Verdict.PASS] * 3 + [Verdict.WARN] + [Verdict.DROP] * 2
    assert limiter.wait(USER) == pytest.approx(1.0)
    assert limiter.check(OTHER) is Verdict.PASS  # a bucket of its own
    clock.now += 1.0
    assert limiter.check(USER) is Verdict.PASS  # one token back
    assert limiter.check(USER) is Verdict.WARN  # told again: this is a new flood
    clock.now += 60
    assert [limiter.check(USER) for _ in range(4)] == [Verdict.PASS] * 3 + [Verdict.WARN]  # full, never more


@pytest.mark.parametrize(("commands", "seconds"), [(0, 60.0), (5, 0.0)])
def test_limiter_refuses_a_limit_that_cannot_refill(commands: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="flood limit"):
        FloodLimiter(commands, seconds)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FLOOD__COMMANDS", "5")
    monkeypatch.setenv("NEWSBOT_FLOOD__SECONDS", "10")
    assert load_settings().flood == FloodSettings(commands=5, seconds=10)
    assert Settings.model_fields["flood"].default == FloodSettings(commands=20, seconds=60)


@pytest_asyncio.fixture
async def limited_bot(tmp_path: Path) -> AsyncIterator[BotEnv]:
    """Yield a bot that answers each user 3 commands per 3 seconds."""
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", emulator).model_copy(update={"flood": LIMIT})
        async with running(settings, emulator) as env:
            yield env


def replies(env: BotEnv, chat_id: int) -> list[str]:
    return [s.text or "" for s in env.emulator.sent if s.chat_id == chat_id and s.method == "sendMessage"]


@pytest.mark.asyncio
async def test_flooding_user_is_told_once_then_ignored_without_slowing_others(limited_bot: BotEnv) -> None:
    for _ in range(3):
        assert "/latest" in ((await limited_bot.ask("/help")).text or "")
    warning = await limited_bot.ask("/help")
    assert warning.text == "你发送得太快了，请 1 秒后再试。在此之前的消息不会被处理。"
    for _ in range(5):
        limited_bot.emulator.send_text(USER, "/help")
    # Another user is answered at once while the flood goes on.
    other = await limited_bot.ask("/help", user=OTHER, timeout=1.0)
    assert "/latest" in (other.text or "")
    await asyncio.sleep(0.3)
    assert len(replies(limited_bot, USER)) == 4  # three answers and the one warning
    # A second later the bucket holds a token again.
    await asyncio.sleep(1.0)
    assert "/latest" in ((await limited_bot.ask("/help")).text or "")


@pytest.mark.asyncio
async def test_english_users_are_warned_in_english(limited_bot: BotEnv) -> None:
    for _ in range(3):
        await limited_bot.ask("/help", language="en")
    warning = await limited_bot.ask("/help", language="en")
    assert warning.text == "You are sending too fast; please try again in 1 s. Until then your messages are ignored."


@pytest.mark.asyncio
async def test_button_presses_count_and_are_warned_through_the_callback_answer(limited_bot: BotEnv) -> None:
    welcome = await limited_bot.ask("/start")
    assert welcome.reply_markup is not None
    subscribe = welcome.reply_markup["inline_keyboard"][0][0]["callback_data"]
    for _ in range(2):
        answered = await limited_bot.press(welcome, subscribe, method="answerCallbackQuery")
        assert answered.text is None
    answer = await limited_bot.press(welcome, subscribe, method="answerCallbackQuery")
    assert answer.text == "你发送得太快了，请 1 秒后再试。在此之前的消息不会被处理。"


@pytest.mark.asyncio
async def test_admins_are_not_limited(limited_bot: BotEnv) -> None:
    for _ in range(8):
        assert "/stats" in ((await limited_bot.ask("/help", user=ADMIN)).text or "")
