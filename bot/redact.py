"""Keep the secrets (the bot token, the database and proxy passwords, the webhook secret, the group
robots' webhooks and signing secrets) out of logs and errors.

Libraries put them where we do not look: Bot API URLs carry the token and httpx logs every request
URL at INFO; python-telegram-bot's `InvalidToken` message quotes the token. `install` puts a filter
on the log handlers that replaces each secret with ``***`` in every record, its arguments and its
traceback; `redact` does the same to a message about to be printed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import Settings

__all__ = ["MASK", "RedactingFilter", "install", "redact", "secrets_of"]

MASK = "***"
_SHORTEST = 4  # characters: masking a shorter "secret" would mangle every log line without protecting much


def secrets_of(settings: Settings) -> list[str]:
    """Return what must never be printed: the token's secret half, the DB and proxy passwords, the webhook
    secret, each robot's webhook URL, key and signing secret."""
    found: list[str] = []
    if settings.token is not None:
        token = settings.token.get_secret_value()
        # "123456:ABC…": the part after the colon is the secret; the bot id before it is public.
        found.append(token.partition(":")[2] or token)
    try:
        password = make_url(settings.database_url).password
    except (ArgumentError, ValueError):  # reported, without echoing it, where the database is opened
        password = None
    if password:
        found += [str(password), quote(str(password), safe="")]  # as given, and as written in a URL
    if settings.telegram_proxy is not None and (proxy_password := urlsplit(settings.telegram_proxy).password):
        found += [unquote(proxy_password), proxy_password]  # as meant, and as written in the URL
    if settings.webhook_secret is not None:
        found.append(settings.webhook_secret.get_secret_value())
    for robot in settings.robots:
        found += robot.credentials()
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every secret replaced by ``***``."""
    for secret in sorted({s for s in secrets if len(s) >= _SHORTEST}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that masks the secrets in each record before it is written."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message, the traceback and the stack; never drop the record."""
        message = record.getMessage()
        masked = redact(message, self._secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # The formatter would render the traceback after this filter; render it here, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


def install(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in everything the root logger's handlers write."""
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
