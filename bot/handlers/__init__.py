"""Command and button handlers, one module per feature; `HANDLERS` in registration order."""

from bot.handlers import admin, fallback, reading, reporting, subscribing

__all__ = ["HANDLERS"]

# Specific handlers first; the fallbacks catch what nothing else took.
HANDLERS = [*reading.HANDLERS, *subscribing.HANDLERS, *reporting.HANDLERS, *admin.HANDLERS, *fallback.HANDLERS]
