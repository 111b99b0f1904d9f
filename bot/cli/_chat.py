"""`newsbot chat`: the whole bot in a terminal, no Telegram token needed.

It starts the local Bot API emulator, runs the real Application against it (the same code as
`newsbot run`), types what the person writes as a Telegram user's messages, and shows what the
bot sends, buttons numbered: `!2` presses button 2 of the last message that has buttons. No
digest is scheduled here: `/digest` shows the one a subscriber would get now.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from html.parser import HTMLParser

from pydantic import SecretStr
from rich.console import Console
from rich.text import Text

from bot.app import run_bot
from bot.config import Settings, WebSettings
from bot.emulator import BotAPIEmulator, Sent
from bot.services import open_services

__all__ = ["CHAT_USER", "run_chat", "telegram_html_to_text"]

CHAT_USER = 10001  # the person at the terminal; an admin, so every command can be tried
_TOKEN = "4242:CHAT"
_STYLES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "code": "cyan",
    "pre": "cyan",
}


class _ToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self._styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        self._styles.append(f"link {href}" if href else _STYLES.get(tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if self._styles:
            self._styles.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data, style=" ".join(s for s in self._styles if s) or None)


def telegram_html_to_text(html: str) -> Text:
    """Return Telegram-HTML as styled terminal text."""
    parser = _ToText()
    parser.feed(html)
    parser.close()
    return parser.text


def _buttons(sent: Sent) -> list[tuple[str, str | None, str | None]]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data"), b.get("url")) for row in rows for b in row]


def _show(console: Console, sent: Sent) -> None:
    if sent.method == "answerCallbackQuery":
        if sent.text:
            console.print(Text(f"  ⓘ {sent.text}", style="yellow"))
        return
    if sent.method not in {"sendMessage", "editMessageText"} or sent.text is None:
        return
    label = "bot" if sent.method == "sendMessage" else "bot (edited)"
    console.rule(Text(label, style="green"), align="left")
    console.print(telegram_html_to_text(sent.text) if sent.parse_mode == "HTML" else Text(sent.text))
    buttons = _buttons(sent)
    if buttons:
        line = Text()
        for n, (caption, _data, url) in enumerate(buttons, 1):
            line.append(f"[{n}] {caption}", style="bold magenta" if url is None else "blue")
            line.append(f" ({url})  " if url else "  ")
        console.print(line)


async def _next_line() -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\n") if line else None


async def _show_answers(console: Console, queue: asyncio.Queue[Sent], last: Sent | None) -> Sent | None:
    """Show what the bot does in answer: wait up to 10 s for the first record, then until it is quiet."""
    timeout = 10.0
    while True:
        try:
            sent = await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            return last
        _show(console, sent)
        if _buttons(sent):
            last = sent
        timeout = 0.3


async def run_chat(settings: Settings, console: Console) -> None:
    """Run the bot against the emulator and talk to it from the terminal until EOF or /quit."""
    async with BotAPIEmulator(token=_TOKEN) as emulator:
        local = settings.model_copy(
            update={
                "token": SecretStr(_TOKEN),
                "telegram_api_url": emulator.base_url.removesuffix("/bot"),
                "admins": sorted({*settings.admins, CHAT_USER}),
                # A trial in the terminal: 8080 may be a running bot's.
                "web": WebSettings(listen=""),
            }
        )
        console.print(Text("正在读取新闻来源…", style="dim"))
        async with open_services(local) as services:
            for source in services.sources:
                await services.ingest(source)
        stop = asyncio.Event()
        # Sources were just read; the interval jobs would only race the end of the session.
        bot = asyncio.create_task(run_bot(local, stop=stop, schedule=False))
        console.print(
            Text(
                "newsbot chat — 输入命令（如 /latest、/summary、/help；订阅后 /digest 查看摘要），"
                "!数字 按按钮，/quit 退出。",
                style="bold",
            )
        )
        last: Sent | None = None
        with emulator.watch() as queue:
            while not bot.done():
                line = await _next_line()
                if line is None or line.strip() == "/quit":
                    break
                if _act(console, emulator, line.strip(), last):
                    last = await _show_answers(console, queue, last)
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await bot


def _act(console: Console, emulator: BotAPIEmulator, line: str, last: Sent | None) -> bool:
    """Type a message, or press a numbered button of the last message that has buttons; return
    whether the bot was asked anything."""
    if not line:
        return False
    if line.startswith("!") and line[1:].isdigit():
        buttons = _buttons(last) if last else []
        index = int(line[1:]) - 1
        if last is None or not 0 <= index < len(buttons) or buttons[index][1] is None:
            console.print(Text("没有这个按钮。", style="red"))
            return False
        emulator.press(CHAT_USER, last, buttons[index][1] or "")
        return True
    emulator.send_text(CHAT_USER, line, first_name="终端用户", username="terminal")
    return True
