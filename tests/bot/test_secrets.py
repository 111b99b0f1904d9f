"""The bot token and the database password never show in logs, error messages or replies.

The failing paths run as `newsbot` processes with real settings from the environment (what an
operator sees on the terminal); the running bot is checked with every logger at DEBUG.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.config import RobotKind, RobotSettings
from bot.emulator import BotAPIEmulator
from bot.redact import MASK, RedactingFilter, redact, secrets_of
from tests.bot.botenv import ADMIN, TOKEN, make_settings, running

BOT_SECRET = "AAHsecretPartOfTheToken"
BOT_TOKEN = f"424242:{BOT_SECRET}"
DB_PASSWORD = "Db-Passw0rd-Secret"
NEWSBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def newsbot(*args: str, tmp_path: Path, **env: str) -> tuple[int, str]:
    """Run `newsbot ARGS` with NEWSBOT_* settings; return its exit code and everything it printed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    environment |= {
        "NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "NEWSBOT_FETCH__RETRIES": "0",
        "NEWSBOT_WEB__LISTEN": "",  # no health server: processes beside each other would share its port
    } | env
    process = await asyncio.create_subprocess_exec(
        *NEWSBOT, *args, env=environment, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def test_redact_masks_each_secret_and_keeps_the_rest() -> None:
    settings = make_settings("postgresql://newsbot:p%40ss%2Fword@db/newsbot", BotAPIEmulator(token=TOKEN))
    settings = settings.model_copy(
        update={
            "token": SecretStr(BOT_TOKEN),
            "webhook_secret": SecretStr("hook-secret"),
            "telegram_proxy": "socks5://me:pr%2Foxy-pass@proxy:1080",
        }
    )
    secrets = secrets_of(settings)
    text = f"POST /bot{BOT_TOKEN}/getMe; postgresql://newsbot:p%40ss%2Fword@db; p@ss/word; hook-secret"
    assert redact(text, secrets) == f"POST /bot424242:{MASK}/getMe; postgresql://newsbot:{MASK}@db; {MASK}; {MASK}"
    proxy = "socks5://me:pr%2Foxy-pass@proxy:1080 (pr/oxy-pass)"
    assert redact(proxy, secrets) == f"socks5://me:{MASK}@proxy:1080 ({MASK})"


def test_redact_masks_the_robots_webhooks_and_secrets() -> None:
    settings = make_settings("sqlite://", BotAPIEmulator(token=TOKEN))
    dingtalk = "https://oapi.dingtalk.com/robot/send?access_token=ding-token-1"
    feishu = "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-hook-2"
    robots = [
        RobotSettings(name="钉钉群", kind=RobotKind.DINGTALK, url=SecretStr(dingtalk), secret=SecretStr("SECding")),
        RobotSettings(name="飞书群", kind=RobotKind.FEISHU, url=SecretStr(feishu)),
    ]
    secrets = secrets_of(settings.model_copy(update={"robots": robots}))
    text = f"POST {dingtalk}&timestamp=1&sign=x failed; token ding-token-1; SECding; /hook/feishu-hook-2"
    assert redact(text, secrets) == f"POST {MASK}&timestamp=1&sign=x failed; token {MASK}; {MASK}; /hook/{MASK}"
    assert "钉钉群" in redact("robot 钉钉群", secrets)  # names are not secrets


@pytest.mark.asyncio
async def test_run_with_an_unreachable_bot_api_fails_in_one_line_without_the_token(tmp_path: Path) -> None:
    code, output = await newsbot(
        "run",
        tmp_path=tmp_path,
        NEWSBOT_TOKEN=BOT_TOKEN,
        NEWSBOT_TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}",
    )
    assert code == 1
    assert output.splitlines()[-1].startswith("newsbot: Telegram Bot API: aiohttp.ClientConnectorError: Cannot connect")
    assert "Unclosed" not in output  # the session of the failed start is closed
    assert BOT_SECRET not in output


@pytest.mark.asyncio
async def test_run_with_a_rejected_token_masks_it_in_the_error(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:  # knows another token: answers 401
        code, output = await newsbot(
            "run",
            tmp_path=tmp_path,
            NEWSBOT_TOKEN=BOT_TOKEN,
            NEWSBOT_TELEGRAM_API_URL=emulator.base_url.removesuffix("/bot"),
        )
    assert code == 1
    # python-telegram-bot quotes the token in this message; the mask shows it was caught.
    assert (
        output.splitlines()[-1] == f"newsbot: Telegram Bot API: The token `424242:{MASK}` was rejected by the server."
    )
    assert BOT_SECRET not in output


@pytest.mark.parametrize(
    ("command", "url"),
    [
        ("run", "postgresql+psycopg://newsbot:{password}@127.0.0.1:{port}/newsbot"),  # refused
        ("sources", "postgresql+psycopg://newsbot:{password}@127.0.0.1:{port}/newsbot"),
        ("db upgrade", "newsbot:{password}@127.0.0.1/newsbot"),  # no scheme
        ("sources", "postgresql+psycopg://newsbot:{password}@127.0.0.1:port/newsbot"),  # a port that is no number
    ],
)
@pytest.mark.asyncio
async def test_database_password_is_never_printed(tmp_path: Path, command: str, url: str) -> None:
    code, output = await newsbot(
        *command.split(),
        tmp_path=tmp_path,
        NEWSBOT_TOKEN=BOT_TOKEN,
        NEWSBOT_DATABASE_URL=url.format(password=DB_PASSWORD, port=closed_port()),
    )
    assert code == 1
    assert output.splitlines()[-1].startswith("newsbot: ")  # one line, no traceback
    assert "Traceback" not in output
    assert DB_PASSWORD not in output and BOT_SECRET not in output


@contextmanager
def every_log_line(settings_secrets: list[str]) -> Iterator[io.StringIO]:
    """Capture every record of every logger at DEBUG, through the filter `newsbot run` installs."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(settings_secrets))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.asyncio
async def test_running_bot_logs_and_stats_keep_the_secrets(database_url: str) -> None:
    # The test server trusts local connections: any password connects, so the bot runs with one.
    url = make_url(database_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(url, emulator)
        secret = TOKEN.partition(":")[2]
        with every_log_line(secrets_of(settings)) as log:
            async with running(settings, emulator) as env:
                stats = await env.ask("/stats", user=ADMIN)
                await env.ask("/summary http://127.0.0.1:9/news/1.html")  # a failing fetch, logged
    assert "订阅者" in (stats.text or "")
    assert DB_PASSWORD not in (stats.text or "") and secret not in (stats.text or "")
    lines = log.getvalue()
    assert f"Set Bot API URL: {emulator.base_url}777:{MASK}" in lines  # PTB logs it, token and all: masked, not dropped
    assert secret not in lines and DB_PASSWORD not in lines
