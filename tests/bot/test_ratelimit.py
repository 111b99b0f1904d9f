"""The shared send budget when its database does not answer: the sender paces itself alone."""

from __future__ import annotations

import logging
import time

import pytest

from bot.ratelimit import RateLimiter, SharedBudget
from storage import make_engine, make_sessionmaker

pytestmark = pytest.mark.asyncio


async def test_without_its_database_the_budget_paces_this_sender_alone_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/test")  # nothing listens there
    rate = 50.0
    limiter = RateLimiter(global_rate=rate, shared=SharedBudget(make_sessionmaker(engine), rate))
    try:
        with caplog.at_level(logging.WARNING, logger="bot.ratelimit"):
            started = time.monotonic()
            for chat_id in range(1, 11):  # one message each to ten chats: only the overall rate holds them
                assert await limiter.acquire(chat_id)
            elapsed = time.monotonic() - started
    finally:
        await engine.dispose()
    # Still one slot per 1/rate: nine intervals at least between the first send and the tenth.
    assert elapsed >= 0.98 * 9 / rate
    assert any("send budget unavailable" in r.getMessage() for r in caplog.records)
