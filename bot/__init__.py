"""The newsbot application: command line, settings and (to come) the Telegram bot."""

from bot.config import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
