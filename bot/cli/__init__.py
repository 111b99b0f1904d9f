"""The command line (`newsbot`): the typer commands, their rich views, and `newsbot chat`."""

from bot.cli._commands import app, main

__all__ = ["app", "main"]
