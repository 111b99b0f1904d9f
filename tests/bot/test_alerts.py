"""Errors reach the admins: once per kind of error per 10 minutes, naming the command and the exception's type only."""

from __future__ import annotations

import asyncio

import pytest

from bot.alerts import ErrorAlerts
from tests.bot.botenv import ADMIN, TOKEN, USER, BotEnv


def _alerts(env: BotEnv) -> list[str]:
    return [s.text or "" for s in env.emulator.messages_to(ADMIN) if "处理出错" in (s.text or "")]


@pytest.mark.asyncio
async def test_an_error_in_a_handler_reaches_an_admin_once_for_two_within_ten_minutes(bot_env: BotEnv) -> None:
    for _ in range(2):
        # The handler's answer is refused; the user is then told "sorry" (that send goes through).
        bot_env.emulator.fail("sendMessage", status=400, chat_id=USER, description="Bad Request: message is too long")
        sorry = await bot_env.ask("/search 我家住在清河路3号")
        assert "抱歉" in (sorry.text or "")
    await bot_env.emulator.wait_for(lambda s: s.chat_id == ADMIN and "处理出错" in (s.text or ""), timeout=5)
    await asyncio.sleep(0.5)
    (alert,) = _alerts(bot_env)
    assert "命令：/search" in alert and "telegram.error.BadRequest" in alert
    # Neither what the user wrote, nor the error's text, nor the token.
    assert "清河路" not in alert and "too long" not in alert and TOKEN not in alert and TOKEN.split(":")[1] not in alert

    # Another kind of error within the ten minutes is told: it is news.
    bot_env.emulator.fail("sendMessage", status=502, chat_id=USER)
    await bot_env.ask("/latest")
    await bot_env.emulator.wait_for(lambda s: s.chat_id == ADMIN and "NetworkError" in (s.text or ""), timeout=5)
    assert len(_alerts(bot_env)) == 2 and "命令：/latest" in _alerts(bot_env)[1]


def test_a_kind_is_told_again_after_ten_minutes_with_the_count_untold() -> None:
    now = [0.0]
    alerts = ErrorAlerts(clock=lambda: now[0])
    assert alerts.due("ValueError") == 0  # told
    now[0] = 599.0
    assert alerts.due("ValueError") is None and alerts.due("ValueError") is None  # within ten minutes
    assert alerts.due("KeyError") == 0  # another kind is its own
    now[0] = 600.0
    assert alerts.due("ValueError") == 2  # told again, with the two untold since
    assert alerts.due("ValueError") is None
