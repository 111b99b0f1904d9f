"""Each robot's sending limits as token buckets, kept per robot (the apps count per robot).

A bucket of `burst` refilled at (limit - burst) per window lets at most `limit` through in any
window: a digest's few parts go at once, and a minute's count never exceeds the app's.
"""

from __future__ import annotations

import asyncio
import time

from bot.config import RobotSettings
from bot.ratelimit import Bucket
from bot.robots._platforms import PLATFORMS

__all__ = ["RobotLimiter"]

_MINUTE_BURST_SHARE = 4  # a quarter of a minute's messages may go at once


def _bucket(limit: int, window: float, burst: int) -> Bucket:
    return Bucket((limit - burst) / window, burst)


class RobotLimiter:
    """Wait, per robot, for a slot under its app's limits and any hold a rate-limit answer put on it."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[Bucket]] = {}
        self._not_before: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def _of(self, robot: RobotSettings) -> list[Bucket]:
        buckets = self._buckets.get(robot.name)
        if buckets is None:
            platform = PLATFORMS[robot.kind]
            buckets = [_bucket(platform.per_minute, 60.0, platform.per_minute // _MINUTE_BURST_SHARE)]
            if platform.per_second:
                buckets.append(_bucket(platform.per_second, 1.0, 1))
            self._buckets[robot.name] = buckets
        return buckets

    def hold(self, robot: RobotSettings, seconds: float) -> None:
        """Send nothing to `robot` for `seconds`: its app answered that it sends too fast."""
        self._not_before[robot.name] = max(self._not_before.get(robot.name, 0.0), time.monotonic() + seconds)

    async def acquire(self, robot: RobotSettings) -> None:
        """Return when a message to `robot` may be sent."""
        while True:
            async with self._lock:
                now = time.monotonic()
                buckets = self._of(robot)
                wait = max(self._not_before.get(robot.name, 0.0) - now, *(b.wait_time(now) for b in buckets))
                if wait <= 0:
                    for bucket in buckets:
                        bucket.take()
                    return
            await asyncio.sleep(wait)
