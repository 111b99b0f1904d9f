"""What the emulator keeps: the bot's actions and the requests it got, the faults to inject, and
Telegram's error answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["JSON", "ApiError", "Fault", "LoggedRequest", "Sent"]

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Sent:
    """One thing the bot did in a chat: a message sent, forwarded, copied, edited or deleted, or a button answered."""

    method: str  # "sendMessage", "forwardMessage", "copyMessage", "editMessageText", "answerCallbackQuery" …
    chat_id: int
    message_id: int  # the message created, edited or deleted, or the one whose button was pressed
    text: str | None  # as the bot sent it, tags included; the answer's text for answerCallbackQuery
    parse_mode: str | None
    reply_markup: JSON | None  # parsed
    params: JSON  # the request's parameters (structured ones as PTB sends them: JSON strings)
    at: float  # time.monotonic() when it was done


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request and how the emulator answered it (status 0: the connection was dropped)."""

    method: str  # never the path: the path holds the token
    params: JSON
    status: int
    at: float  # time.monotonic() on arrival


@dataclass(slots=True)
class Fault:
    status: int
    description: str
    parameters: JSON | None
    chat_id: int | None  # only calls for this chat fail
    remaining: int
    until: float | None  # time.monotonic() when it ends; None: after `remaining` calls


class ApiError(Exception):
    """An error answer, in Telegram's words."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> JSON:
        """Return the JSON body Telegram answers with."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        return body | {"parameters": self.parameters} if self.parameters else body
