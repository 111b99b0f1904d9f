"""Send one payload to a robot and say what became of it.

aiohttp, not httpx: it is how the bot already reaches Telegram (bot/transport.py, chosen for its
constant-time connection pool), and the robot's URL is the operator's own, so the ingest
fetcher's guards against private addresses (httpx) would only be in the way of a local stand-in.
The URL goes out as given (`encoded=True`): yarl would otherwise re-quote the operator's key.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Self

import aiohttp
from yarl import URL

from bot.config import RobotSettings
from bot.robots._limits import RobotLimiter
from bot.robots._platforms import PLATFORMS
from bot.robots._render import JSON
from bot.robots._sign import signed_request

__all__ = ["Outcome", "RobotSender", "Verdict", "classify"]

_TRANSIENT_STATUS = 500
_BACKOFF_CAP = 60.0  # seconds between attempts at most


class Outcome(StrEnum):
    """What a send came to, and so what its sender does next."""

    SENT = "sent"
    RATE_LIMITED = "rate_limited"  # wait `retry_after`, then send again (not a failed attempt)
    TRANSIENT = "transient"  # a 5xx, a timeout, a lost connection: again, with backoff
    BAD_KEY = "bad_key"  # the url or secret is wrong or revoked: fail now, tell the admins
    REJECTED = "rejected"  # this message is refused (keyword filter, too long …): fail now


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one send, classified."""

    outcome: Outcome
    code: int | None = None  # the app's errcode / code; None: no answer in the app's words
    message: str = ""  # the app's errmsg, or what failed; never the url
    retry_after: float | None = None  # seconds, for RATE_LIMITED

    @property
    def retry(self) -> bool:
        """Return whether sending the same payload again may succeed."""
        return self.outcome in (Outcome.RATE_LIMITED, Outcome.TRANSIENT)


def classify(robot: RobotSettings, status: int, answer: bytes) -> Verdict:
    """Classify an HTTP answer: success is code 0 alone (a 200 with another code is a failure)."""
    platform = PLATFORMS[robot.kind]
    try:
        data = json.loads(answer)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(code := data.get(platform.code_field, data.get("StatusCode")), int):
        if status == 429:
            return Verdict(Outcome.RATE_LIMITED, message=f"HTTP {status}", retry_after=platform.hold)
        outcome = Outcome.TRANSIENT if status >= _TRANSIENT_STATUS else Outcome.REJECTED
        return Verdict(outcome, message=f"HTTP {status}")
    message = str(data.get(platform.message_field, data.get("StatusMessage", "")))
    if code == 0 and status == 200:
        return Verdict(Outcome.SENT, 0, message)
    if code in platform.rate_limited or status == 429:
        return Verdict(Outcome.RATE_LIMITED, code, message, retry_after=platform.hold)
    if code in platform.keyword_refused or "keyword" in message.lower():  # DingTalk's 310000 says which
        return Verdict(Outcome.REJECTED, code, message)
    if code in platform.bad_key:
        return Verdict(Outcome.BAD_KEY, code, message)
    if code in platform.busy or status >= _TRANSIENT_STATUS:
        return Verdict(Outcome.TRANSIENT, code, message)
    return Verdict(Outcome.REJECTED, code, message)


class RobotSender:
    """Sends to group robots over one aiohttp session, each robot under its app's limits.

        async with RobotSender() as sender:
            verdict = await sender.send(robot, payload)

    `clock` gives the signatures' time (seconds since the epoch).
    """

    def __init__(self, *, timeout: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self.limiter = RobotLimiter()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, robot: RobotSettings, payload: JSON) -> Verdict:
        """Send one payload once, signed now, when the robot's limits allow; a rate-limit answer holds the robot."""
        if self._session is None:
            raise RuntimeError("RobotSender is used inside `async with`")
        await self.limiter.acquire(robot)
        url, data = signed_request(robot, payload, self._clock())
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            async with self._session.post(URL(url, encoded=True), data=data, headers=headers) as response:
                status, answer = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The type only: aiohttp's messages quote the URL, which is the robot's key.
            return Verdict(Outcome.TRANSIENT, message=type(exc).__name__)
        verdict = classify(robot, status, answer)
        if verdict.outcome is Outcome.RATE_LIMITED and verdict.retry_after:
            self.limiter.hold(robot, verdict.retry_after)
        return verdict

    async def deliver(self, robot: RobotSettings, payload: JSON, *, attempts: int = 5, backoff: float = 1.0) -> Verdict:
        """Send until it is sent or fails for good: transient failures `attempts` times at most, waiting
        `backoff` doubled each time; rate-limit answers wait in the limiter and count as attempts too,
        so a robot that never stops saying so still ends."""
        verdict = Verdict(Outcome.TRANSIENT, message="not sent")
        for attempt in range(attempts):
            verdict = await self.send(robot, payload)
            if not verdict.retry:
                break
            if verdict.outcome is Outcome.TRANSIENT and attempt + 1 < attempts:
                await asyncio.sleep(min(_BACKOFF_CAP, backoff * 2**attempt))
        return verdict
