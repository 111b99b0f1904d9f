"""Command and button handlers, one module per feature; `HANDLERS` in registration order."""

from bot.handlers import admin, digests, fallback, reading, reporting, subscribing

__all__ = ["HANDLERS"]

# Edited commands are caught before any command handler; the fallbacks catch what nothing else took.
HANDLERS = [
    *fallback.EDITS,
    *reading.HANDLERS,
    *subscribing.HANDLERS,
    *digests.HANDLERS,
    *reporting.HANDLERS,
    *admin.HANDLERS,
    *fallback.HANDLERS,
]
