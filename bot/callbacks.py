"""Inline-button data: one codec, round-trip tested, and the handler patterns that come from it.

Button data travels through the user's client and comes back as they send it: it is decoded
strictly (a known action, whole numbers only, at most 64 bytes), and every handler still checks
that what it names exists and that the user may do it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Action", "Callback", "decode", "encode", "pattern"]

_MAX_BYTES = 64  # Telegram's limit for callback_data
_MAX_INT = 2**53  # ids and page numbers; anything bigger was not made by us


class Action(StrEnum):
    """What a button does; the value is the prefix on the wire."""

    SUMMARY = "s"  # article id
    FULL = "f"  # article id, page
    BACK = "b"  # article id: a full-text page back to the summary
    CONTACTS = "c"  # article id
    DIRECTIVES = "d"  # article id, 1 = every directive, 0 = their heads
    LATEST = "l"  # offset
    SEARCH = "q"  # search id (its words are a row of storage's searches), offset
    SUBSCRIBE = "u"  # no argument
    TOGGLE_SOURCE = "t"  # source id (the /sources list)
    DIGEST_SIZE = "z"  # articles per digest
    DIGEST_TIME = "h"  # minutes after midnight, in the subscriber's time zone
    TIMEZONE = "w"  # index of a common time zone (bot.handlers.subscribing.ZONES)
    REMOVE_FILTER = "r"  # CRC-32 of the keyword (a filter is named by its subscriber and keyword)
    ANNOUNCE = "a"  # announcement id
    CANCEL_ANNOUNCE = "x"  # announcement id
    DIGEST = "g"  # offset into what waits for the chat's next digest
    SCRIPT = "k"  # index into bot.texts.SCRIPTS: 0 Simplified, 1 Traditional


_ARITY = {
    Action.SUMMARY: 1,
    Action.FULL: 2,
    Action.BACK: 1,
    Action.CONTACTS: 1,
    Action.DIRECTIVES: 2,
    Action.LATEST: 1,
    Action.SEARCH: 2,
    Action.SUBSCRIBE: 0,
    Action.TOGGLE_SOURCE: 1,
    Action.DIGEST_SIZE: 1,
    Action.REMOVE_FILTER: 1,
    Action.DIGEST_TIME: 1,
    Action.TIMEZONE: 1,
    Action.ANNOUNCE: 1,
    Action.CANCEL_ANNOUNCE: 1,
    Action.DIGEST: 1,
    Action.SCRIPT: 1,
}


@dataclass(frozen=True, slots=True)
class Callback:
    """A decoded button press."""

    action: Action
    args: tuple[int, ...]


def encode(action: Action, *args: int) -> str:
    """Return the callback_data for a button."""
    if len(args) != _ARITY[action] or any(not 0 <= a < _MAX_INT for a in args):
        raise ValueError(f"{action.name} takes {_ARITY[action]} non-negative whole numbers, got {args}")
    data = ":".join([action.value, *map(str, args)])
    assert len(data.encode()) <= _MAX_BYTES
    return data


def decode(data: str | None) -> Callback:
    """Return the button press `data` encodes.

    Raises:
        ValueError: the data was not made by `encode` (stale, tampered or foreign).
    """
    if not data or len(data.encode()) > _MAX_BYTES:
        raise ValueError("no callback data, or too long")
    head, *rest = data.split(":")
    try:
        action = Action(head)
    except ValueError:
        raise ValueError(f"unknown action {head!r}") from None
    if len(rest) != _ARITY[action] or not all(part.isdigit() and part.isascii() for part in rest):
        raise ValueError(f"bad arguments for {action.name}: {rest!r}")
    args = tuple(int(part) for part in rest)
    if any(a >= _MAX_INT for a in args):
        raise ValueError("argument out of range")
    return Callback(action, args)


def pattern(*actions: Action) -> re.Pattern[str]:
    """Return the regex a CallbackQueryHandler for any of `actions` filters on."""
    if not actions:
        raise ValueError("a pattern needs at least one action")
    each = (re.escape(a.value) + "".join(r":\d{1,16}" for _ in range(_ARITY[a])) for a in actions)
    return re.compile(rf"^(?:{'|'.join(each)})$")
