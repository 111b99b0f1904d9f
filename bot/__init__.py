"""The newsbot application: settings, the Telegram bot and its delivery, the command line.

`run_bot` and `Services` load the whole application (Telegram, the database, the summariser), so
they are imported on first use: `newsbot --help` and the settings stay quick to load.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from bot.config import ConfigError, Settings, load_settings

if _typing.TYPE_CHECKING:
    from bot.app import run_bot
    from bot.services import Services

__all__ = ["ConfigError", "Services", "Settings", "load_settings", "run_bot"]

_LAZY = {"run_bot": "bot.app", "Services": "bot.services"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
