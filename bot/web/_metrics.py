"""The bot's Prometheus metrics, in a registry of its own: several bots in one process (the tests)
never count into each other's."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, Histogram
from telegram import Update

from bot.texts import ADMIN_COMMANDS, COMMANDS

__all__ = ["Metrics"]

# A label per command the bot knows: a user typing /anything must not make a series of its own.
_KNOWN = frozenset(c[0] for c in (*COMMANDS, *ADMIN_COMMANDS))


def kind_of(update: object) -> str | None:
    """Return what `update` asks for: its command, "button", "message" or "other_command";
    None for what no user waits on (a member update, say)."""
    if not isinstance(update, Update):
        return None
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return None
    text = message.text or ""
    if not text.startswith("/"):
        return "message"
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return command if command in _KNOWN else "other_command"


@dataclass
class Metrics:
    """The registry /metrics exposes and the series the bot feeds."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    commands: Histogram = field(init=False)
    outbox: Gauge = field(init=False)

    def __post_init__(self) -> None:
        self.commands = Histogram(
            "newsbot_command_seconds",
            "Time from an update's arrival to the end of its handling (the answer sent), by kind",
            ["kind"],
            registry=self.registry,
        )
        # Set from the database at each scrape: other processes on one PostgreSQL send from it too.
        self.outbox = Gauge("newsbot_outbox_rows", "Outbox rows by status", ["status"], registry=self.registry)

    def handled(self, update: object, seconds: float) -> None:
        """Count `update` as answered after `seconds`, under its kind."""
        if (kind := kind_of(update)) is not None:
            self.commands.labels(kind).observe(seconds)
