"""What each app's robot API documents: its limits and its answer codes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import RobotKind

__all__ = ["PLATFORMS", "Platform"]


@dataclass(frozen=True, slots=True)
class Platform:
    """One app's webhook rules, as its public docs state them."""

    per_minute: int  # messages a robot may send
    per_second: int | None
    max_bytes: int  # of what `measure` counts (see bot.robots._render)
    code_field: str  # where the answer's code is: "errcode" or "code"
    message_field: str
    rate_limited: frozenset[int]
    bad_key: frozenset[int]  # the url or the secret is wrong, or the robot was removed
    keyword_refused: frozenset[int]
    busy: frozenset[int]  # "system busy": worth another try
    hold: float  # seconds nothing more is sent to a robot after a rate-limit answer


PLATFORMS: dict[RobotKind, Platform] = {
    # 企业微信 群机器人: 20 messages a minute; markdown content at most 4,096 bytes (text 2,048).
    RobotKind.WECOM: Platform(
        per_minute=20,
        per_second=None,
        max_bytes=4096,
        code_field="errcode",
        message_field="errmsg",
        rate_limited=frozenset({45009}),
        bad_key=frozenset({93000}),
        keyword_refused=frozenset(),
        busy=frozenset({-1}),
        hold=60.0,
    ),
    # 钉钉 自定义机器人: 20 a minute, then throttled for 10 minutes; a message at most 20,000 bytes.
    # 310000 is every security setting's refusal: a bad sign or timestamp, or no keyword in the text.
    RobotKind.DINGTALK: Platform(
        per_minute=20,
        per_second=None,
        max_bytes=20_000,
        code_field="errcode",
        message_field="errmsg",
        rate_limited=frozenset({130101}),
        bad_key=frozenset({300001, 310000}),
        keyword_refused=frozenset(),
        busy=frozenset({-1}),
        hold=600.0,
    ),
    # 飞书 自定义机器人: 100 a minute and 5 a second; a request body at most 20 KB.
    RobotKind.FEISHU: Platform(
        per_minute=100,
        per_second=5,
        max_bytes=20 * 1024,
        code_field="code",
        message_field="msg",
        rate_limited=frozenset({9499, 11232}),
        bad_key=frozenset({19001, 19021, 19022}),
        keyword_refused=frozenset({19024}),
        busy=frozenset(),
        hold=60.0,
    ),
}
