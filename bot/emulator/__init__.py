"""A local Bot API server for tests, benchmarks and `newsbot chat`: simulated users and chats,
injected faults, a record of every call, and Telegram's checks of what the bot sends; and local
stand-ins for the WeCom, DingTalk and Feishu group-robot webhooks."""

from bot.emulator._html import TEXT_LIMIT, parse_html, visible_text
from bot.emulator._records import ApiError, LoggedRequest, Sent
from bot.emulator._robots import RobotMessage, RobotRequest, RobotsEmulator
from bot.emulator._server import GROUP_ANONYMOUS_BOT, BotAPIEmulator

__all__ = [
    "GROUP_ANONYMOUS_BOT",
    "TEXT_LIMIT",
    "ApiError",
    "BotAPIEmulator",
    "LoggedRequest",
    "RobotMessage",
    "RobotRequest",
    "RobotsEmulator",
    "Sent",
    "parse_html",
    "visible_text",
]
