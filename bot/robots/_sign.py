"""Signatures as DingTalk and Feishu document them, made afresh for each attempt.

Both sign "timestamp\\nsecret" with HMAC-SHA256 and send it base64-encoded; they differ in the key,
the unit and the place: DingTalk keys on the secret, counts milliseconds and puts both in the
query (url-encoded); Feishu keys on the string itself over an empty message, counts seconds and
puts both in the body. Each refuses a timestamp more than an hour off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

from bot.config import RobotKind, RobotSettings
from bot.robots._render import JSON, body

__all__ = ["dingtalk_sign", "feishu_sign", "signed_request"]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's `sign` (before url-encoding) for a timestamp in milliseconds."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Return Feishu's `sign` for a timestamp in seconds."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_request(robot: RobotSettings, payload: JSON, now: float) -> tuple[str, bytes]:
    """Return the URL and body of one attempt at `now` (seconds since the epoch), signed if the robot has a secret."""
    url = robot.url.get_secret_value()
    if robot.secret is None:
        return url, body(payload)
    secret = robot.secret.get_secret_value()
    if robot.kind is RobotKind.DINGTALK:
        stamp = int(now * 1000)
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}timestamp={stamp}&sign={quote_plus(dingtalk_sign(secret, stamp))}", body(payload)
    stamp = int(now)
    return url, body({"timestamp": str(stamp), "sign": feishu_sign(secret, stamp)} | payload)
