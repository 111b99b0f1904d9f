"""The newsbot application: settings, the Telegram bot and its delivery, the command line."""

from bot.config import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
