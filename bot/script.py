"""Simplified or Traditional Chinese: the one conversion of a rendered message, and the bot that
applies it to every reply of an update whose chat reads Traditional.

OpenCC's ``s2tw``: its phrase dictionary first (发展 → 發展, 干部 → 幹部, 以后 → 以後 but 皇后 stays),
then Taiwan's standard character forms (裡, 著, 麵), the forms most Traditional readers (Taiwan,
abroad; Hong Kong and Macao read them without effort) know. Not ``s2twp``: its vocabulary swaps
rewrite what an article quotes (发布会 → 釋出會, 信息 → 資訊), and not plain ``s2t``, whose
dictionary forms (裏, 着, 麪) no region prints.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from contextvars import ContextVar
from typing import Any

import opencc
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ExtBot
from telegram.request import BaseRequest

from bot.texts import HANS, HANT
from storage import StorageError, subscriber_scripts

__all__ = ["KEPT", "ScriptBook", "ScriptedBot", "markup_to_script", "speak", "to_script"]

logger = logging.getLogger(__name__)

# Seconds the subscribers' scripts are kept: a change made through another process shows within them.
KEPT = 60.0
_TAG = re.compile(r"(<[^>]*>)")  # what Telegram's HTML puts between texts: kept as it is


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2tw")


def to_script(text: str, script: str) -> str:
    """Return the rendered HTML message `text` in `script` ("hans" | "hant").

    Only the texts between tags are converted: a link's href, a tag's name stay as they were
    (entities are ASCII, which OpenCC leaves alone).
    """
    if script == HANS:
        return text
    if script != HANT:
        raise ValueError(f"unknown script {script!r}")
    convert = _converter().convert
    parts = _TAG.split(text)
    parts[0::2] = [convert(part) if part else part for part in parts[0::2]]
    return "".join(parts)


def markup_to_script(markup: dict[str, Any], script: str) -> dict[str, Any]:
    """Return an inline keyboard (as its dict) with its buttons' labels in `script`; their data and
    links stay as they were."""
    if script == HANS or "inline_keyboard" not in markup:
        return markup
    rows = [[b | {"text": to_script(b["text"], script)} for b in row] for row in markup["inline_keyboard"]]
    return markup | {"inline_keyboard": rows}


# The chat an update is handled for and the script it reads: set by `speak` when the update comes
# in, read by `ScriptedBot` on every call made while handling it (each update runs in a task of
# its own, which holds its own value).
_speaking: ContextVar[tuple[int | None, str]] = ContextVar("speaking", default=(None, HANS))


def speak(chat_id: int | None, script: str) -> None:
    """Make the calls the current update makes to `chat_id` (and its button answers) be in `script`."""
    _speaking.set((chat_id, script))


class ScriptedBot(ExtBot[None]):
    """The bot whose replies to a chat reading Traditional are converted, whatever handler made them.

    Only calls to the update's own chat (or naming no chat: a button's answer) are converted: a
    report forwarded to the admins stays as the admins read it. The outbox's sends, made outside
    any update, go as they were rendered for their chat (`bot.delivery`).
    """

    def __init__(self, token: str, *, base_url: str, base_file_url: str, request: BaseRequest, polling: BaseRequest):
        super().__init__(
            token, base_url=base_url, base_file_url=base_file_url, request=request, get_updates_request=polling
        )

    async def _do_post(self, endpoint: str, data: dict[str, Any], **timeouts: Any) -> Any:
        chat_id, script = _speaking.get()
        if script != HANS and data.get("chat_id", chat_id) == chat_id:
            data = dict(data)
            for key in ("text", "caption"):
                if isinstance(data.get(key), str):
                    data[key] = to_script(data[key], script)
            markup = data.get("reply_markup")
            if markup is not None:
                data["reply_markup"] = markup_to_script(markup.to_dict(), script)
        return await super()._do_post(endpoint, data, **timeouts)


class ScriptBook:
    """Every subscriber's script, read whole every `KEPT` seconds: each update asks for its chat's,
    and a read per update (or per chat in a burst of new ones) was a quarter of a command's CPU.
    This process's own changes are written in at once; another process's show within `KEPT`."""

    def __init__(self) -> None:
        self._scripts: dict[int, str] = {}
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def of(self, sessions: async_sessionmaker[AsyncSession], chat_id: int) -> str | None:
        """Return the script the chat's subscriber chose, or None (not a subscriber)."""
        if time.monotonic() >= self._until:
            async with self._lock:  # a burst of updates reads them once
                if time.monotonic() >= self._until:
                    await self._read(sessions)
        return self._scripts.get(chat_id)

    def set(self, chat_id: int, script: str | None) -> None:
        """Record a change this process made (None: no longer known, read it again with the rest)."""
        if script is None:
            self._scripts.pop(chat_id, None)
        else:
            self._scripts[chat_id] = script

    async def _read(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        try:
            async with sessions() as session:
                self._scripts = await subscriber_scripts(session=session)
        except (SQLAlchemyError, StorageError):  # the command's own read will tell the user
            logger.debug("subscribers' scripts not read", exc_info=True)
        self._until = time.monotonic() + KEPT
