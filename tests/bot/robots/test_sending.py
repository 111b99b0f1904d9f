"""Robots' messages over real HTTP to the local stand-ins of the three apps: split digests arrive in
order, signatures are checked, and every refusal is classified as the outbox will need it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.config import RobotKind, RobotSettings
from bot.emulator import RobotsEmulator
from bot.robots import Outcome, RobotSender, Verdict, digest_payloads
from tests.bot.robots.digests import digest

SECRET = "SEC0123456789abcdef"


@pytest_asyncio.fixture
async def robots() -> AsyncIterator[RobotsEmulator]:
    async with RobotsEmulator() as emulator:
        yield emulator


def robot(url: str, kind: RobotKind, secret: str | None = None) -> RobotSettings:
    return RobotSettings(name=f"{kind}群", kind=kind, url=SecretStr(url), secret=SecretStr(secret) if secret else None)


def _secret(kind: RobotKind) -> str | None:
    return None if kind is RobotKind.WECOM else SECRET


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kind", "articles"), [(RobotKind.WECOM, 40), (RobotKind.DINGTALK, 150), (RobotKind.FEISHU, 120)]
)
async def test_a_split_digest_arrives_whole_and_in_order(
    robots: RobotsEmulator, kind: RobotKind, articles: int
) -> None:
    url = robots.add(kind, secret=_secret(kind))
    parts = digest_payloads(kind, digest(articles), "2024-07-01")
    assert len(parts) > 1
    async with RobotSender() as sender:
        verdicts = [await sender.send(robot(url, kind, _secret(kind)), part) for part in parts]
    assert verdicts == [Verdict(Outcome.SENT, 0, verdicts[0].message)] * len(parts)
    assert [m.payload for m in robots.messages(url)] == parts


@pytest.mark.asyncio
@pytest.mark.parametrize(("kind", "code"), [(RobotKind.DINGTALK, 310000), (RobotKind.FEISHU, 19021)])
async def test_a_wrong_secret_is_refused_as_a_bad_key(robots: RobotsEmulator, kind: RobotKind, code: int) -> None:
    url = robots.add(kind, secret=SECRET)
    (part,) = digest_payloads(kind, digest(1), "2024-07-01")
    async with RobotSender() as sender:
        wrong = await sender.send(robot(url, kind, "SECwrong-secret"), part)
        unsigned = await sender.send(robot(url, kind), part)
    assert (wrong.outcome, wrong.code, wrong.retry) == (Outcome.BAD_KEY, code, False)
    assert unsigned.outcome is Outcome.BAD_KEY
    assert robots.messages(url) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kind", "code"), [(RobotKind.WECOM, 93000), (RobotKind.DINGTALK, 300001), (RobotKind.FEISHU, 19001)]
)
async def test_a_revoked_key_fails_at_once(robots: RobotsEmulator, kind: RobotKind, code: int) -> None:
    url = robots.add(kind)
    robots.revoke(url)
    async with RobotSender() as sender:
        verdict = await sender.deliver(robot(url, kind), digest_payloads(kind, digest(1), "d")[0], backoff=0)
    assert (verdict.outcome, verdict.code) == (Outcome.BAD_KEY, code)
    assert len(robots.requests) == 1  # not retried


@pytest.mark.asyncio
async def test_a_stale_timestamp_is_refused() -> None:
    async with RobotsEmulator() as robots, RobotSender(clock=lambda: time.time() - 7200) as sender:
        url = robots.add("feishu", secret=SECRET)
        verdict = await sender.send(
            robot(url, RobotKind.FEISHU, SECRET), {"msg_type": "text", "content": {"text": "x"}}
        )
    assert (verdict.outcome, verdict.code) == (Outcome.BAD_KEY, 19021)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kind", "code"), [(RobotKind.WECOM, 45009), (RobotKind.DINGTALK, 130101), (RobotKind.FEISHU, 11232)]
)
async def test_a_rate_limit_answer_is_retried_later(robots: RobotsEmulator, kind: RobotKind, code: int) -> None:
    url = robots.add(kind)
    robots.answer(url, "rate")
    async with RobotSender() as sender:
        verdict = await sender.send(robot(url, kind), digest_payloads(kind, digest(1), "d")[0])
    assert (verdict.outcome, verdict.code, verdict.retry) == (Outcome.RATE_LIMITED, code, True)
    assert verdict.retry_after is not None and verdict.retry_after >= 60


@pytest.mark.asyncio
async def test_a_keyword_filter_refusal_fails_at_once(robots: RobotsEmulator) -> None:
    url = robots.add("dingtalk", keywords=("台风",))
    async with RobotSender() as sender:
        refused = await sender.send(
            robot(url, RobotKind.DINGTALK), digest_payloads(RobotKind.DINGTALK, digest(1), "d")[0]
        )
    assert (refused.outcome, refused.code, refused.retry) == (Outcome.REJECTED, 310000, False)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", [RobotKind.DINGTALK, RobotKind.FEISHU])
async def test_a_retried_send_is_signed_again(robots: RobotsEmulator, kind: RobotKind) -> None:
    url = robots.add(kind, secret=SECRET)
    robots.answer(url, "http", status=503, times=2)
    clock = iter([1_720_000_000.0, 1_720_000_001.5, 1_720_000_003.0])
    start = time.time()
    async with RobotSender(clock=lambda: next(clock) - 1_720_000_000.0 + start) as sender:
        verdict = await sender.deliver(robot(url, kind, SECRET), {"msg_type": "text", "content": {"text": "公告"}}
                                       if kind is RobotKind.FEISHU else {"msgtype": "text", "text": {"content": "公告"}},
                                       backoff=0.01)  # fmt: skip
    assert verdict.outcome is Outcome.SENT
    where = [r.query if kind is RobotKind.DINGTALK else r.body or {} for r in robots.requests]
    assert [r.status for r in robots.requests] == [503, 503, 200]
    assert len({w["timestamp"] for w in where}) == 3 and len({w["sign"] for w in where}) == 3
    assert len(robots.messages(url)) == 1


@pytest.mark.asyncio
async def test_a_transient_failure_gives_up_after_its_attempts(robots: RobotsEmulator) -> None:
    url = robots.add("wecom")
    robots.answer(url, "http", status=502, times=10)
    async with RobotSender() as sender:
        verdict = await sender.deliver(robot(url, RobotKind.WECOM), {"msgtype": "text", "text": {"content": "x"}},
                                       attempts=3, backoff=0.01)  # fmt: skip
    assert (verdict.outcome, verdict.message) == (Outcome.TRANSIENT, "HTTP 502")
    assert len(robots.requests) == 3


@pytest.mark.asyncio
async def test_an_unreachable_robot_is_transient_and_its_url_is_not_in_the_message() -> None:
    async with RobotsEmulator() as robots:
        url = robots.add("wecom")  # closed below: nothing listens on its port any more
    async with RobotSender(timeout=2) as sender:
        verdict = await sender.send(robot(url, RobotKind.WECOM), {"msgtype": "text", "text": {"content": "x"}})
    assert verdict.outcome is Outcome.TRANSIENT
    assert url.rsplit("=", 1)[1] not in verdict.message


@pytest.mark.asyncio
async def test_the_stand_in_enforces_the_size_limit(robots: RobotsEmulator) -> None:
    url = robots.add("wecom")
    async with RobotSender() as sender:
        verdict = await sender.send(
            robot(url, RobotKind.WECOM), {"msgtype": "markdown", "markdown": {"content": "长" * 1400}}
        )
    assert (verdict.outcome, verdict.code) == (Outcome.REJECTED, 40058)


@pytest.mark.asyncio
async def test_the_limiter_keeps_a_robot_under_its_apps_rate(robots: RobotsEmulator) -> None:
    url = robots.add("feishu")
    feishu = robot(url, RobotKind.FEISHU)
    started = time.monotonic()
    async with RobotSender() as sender:
        verdicts = [await sender.send(feishu, {"msg_type": "text", "content": {"text": str(n)}}) for n in range(8)]
    assert {v.outcome for v in verdicts} == {Outcome.SENT}  # the stand-in counts 5 a second, as Feishu does
    assert time.monotonic() - started >= 1.0
