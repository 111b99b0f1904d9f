"""`newsbot run --webhook`: updates arrive by POST and must carry the secret token."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from bot.app import run_bot
from bot.config import Webhook
from bot.emulator import BotAPIEmulator
from tests.bot.botenv import TOKEN, USER, free_port, make_settings


@pytest.mark.asyncio
async def test_webhook_needs_the_secret(tmp_path: Path) -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        settings = make_settings(f"sqlite:///{tmp_path / 'w.db'}", emulator)
        port = free_port()
        hook = Webhook(
            url="https://bot.example.cn/hook", secret="s3cret-token", listen="127.0.0.1", port=port, path="hook"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, webhook=hook, stop=stop, schedule=False))
        try:
            async with asyncio.timeout(15):
                while not any(r.method == "setWebhook" for r in emulator.http_log):
                    await asyncio.sleep(0.05)
            registered = next(r for r in emulator.http_log if r.method == "setWebhook").params
            assert registered["url"] == "https://bot.example.cn/hook"
            assert registered["secret_token"] == "s3cret-token"
            update = emulator.send_text(USER, "/help")
            url = f"http://127.0.0.1:{port}/hook"
            async with httpx.AsyncClient(trust_env=False) as client:
                for _ in range(50):  # the server binds right after setWebhook
                    with contextlib.suppress(httpx.ConnectError):
                        wrong = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
                        break
                    await asyncio.sleep(0.1)
                assert wrong.status_code == 403
                missing = await client.post(url, json=update)
                assert missing.status_code == 403
                assert not emulator.messages_to(USER)
                right = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
                assert right.status_code == 200
            reply = await emulator.wait_for(lambda s: s.chat_id == USER and s.method == "sendMessage")
            assert "/summary" in (reply.text or "")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
