"""Group robots of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书): the digests and announcements
in each app's rich format, split under its size limits, signed as it documents, sent under its rate
limits, and each answer classified (`RobotSender.send(robot, payload) -> Verdict`)."""

from bot.robots._limits import RobotLimiter
from bot.robots._platforms import PLATFORMS, Platform
from bot.robots._render import JSON, announcement_payloads, body, digest_payloads, measure
from bot.robots._send import Outcome, RobotSender, Verdict, classify
from bot.robots._sign import dingtalk_sign, feishu_sign, signed_request

__all__ = [
    "JSON",
    "PLATFORMS",
    "Outcome",
    "Platform",
    "RobotLimiter",
    "RobotSender",
    "Verdict",
    "announcement_payloads",
    "body",
    "classify",
    "digest_payloads",
    "dingtalk_sign",
    "feishu_sign",
    "measure",
    "signed_request",
]
