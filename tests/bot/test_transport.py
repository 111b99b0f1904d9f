"""`bot.transport.AiohttpRequest` through python-telegram-bot's own Bot, against a local HTTP server:
parameters arrive as JSON and files as a multipart form, the connection limit holds, and failures
come out as PTB's TimedOut and NetworkError."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import BodyPartReader, web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.transport import AiohttpRequest

pytestmark = pytest.mark.asyncio

TOKEN = "123:TRANSPORT"
STALL, DROP = 2, 3  # chat ids the server stalls on, or hangs up on


@dataclass
class Server:
    """A Bot API stand-in that notes what it was sent."""

    url: str = ""
    forms: list[dict[str, Any]] = field(default_factory=list)
    peers: set[int] = field(default_factory=set)
    in_flight: int = 0
    most_in_flight: int = 0


def message(chat_id: int, text: str = "") -> dict[str, Any]:
    return {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}, "text": text}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def call(request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        form: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                assert isinstance(part, BodyPartReader)
                data = await part.read()
                form[part.name or ""] = (part.filename, bytes(data)) if part.filename else data.decode()
        elif request.content_type == "application/json":
            form = await request.json()
        else:
            form = dict(await request.post())
        state.forms.append({"method": method, **form})
        peer = request.transport.get_extra_info("peername") if request.transport else None
        state.peers.add(peer[1] if peer else 0)
        state.in_flight += 1
        state.most_in_flight = max(state.most_in_flight, state.in_flight)
        try:
            chat = int(form.get("chat_id", 0))
            if chat == STALL:
                await asyncio.sleep(1)  # past the 0.2 s read timeout the test sets
            if chat == DROP and request.transport is not None:
                request.transport.abort()  # no answer at all
                return web.Response()
            await asyncio.sleep(0.01)  # long enough for calls to overlap
            if method == "getMe":
                result: dict[str, Any] = {"id": 123, "is_bot": True, "first_name": "测试", "username": "test_bot"}
            else:
                result = message(chat, str(form.get("text", "")))
            return web.json_response({"ok": True, "result": result})
        finally:
            state.in_flight -= 1

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", call)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()  # a port of our own; the site closes it
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    await web.SockSite(runner, sock).start()
    port = sock.getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/bot"
    try:
        yield state
    finally:
        await runner.cleanup()


async def test_parameters_and_files_arrive_as_ptb_sends_them(server: Server) -> None:
    async with Bot(TOKEN, base_url=server.url, request=AiohttpRequest(4)) as bot:
        sent = await bot.send_message(42, "<b>你好</b>", parse_mode="HTML")
        await bot.send_document(42, document=b"%PDF-1.4 bytes", filename="报告.pdf", caption="附件")
    assert sent.text == "<b>你好</b>" and sent.chat.id == 42
    text_call = next(f for f in server.forms if f["method"] == "sendMessage")
    assert (text_call["chat_id"], text_call["text"], text_call["parse_mode"]) == ("42", "<b>你好</b>", "HTML")
    document_call = next(f for f in server.forms if f["method"] == "sendDocument")
    assert document_call["caption"] == "附件"
    filename, content = document_call["document"]
    assert content == b"%PDF-1.4 bytes" and filename == "报告.pdf"


async def test_calls_share_at_most_the_connections_allowed(server: Server) -> None:
    async with Bot(TOKEN, base_url=server.url, request=AiohttpRequest(4)) as bot:
        replies = await asyncio.gather(*(bot.send_message(1000 + n, f"第{n}条") for n in range(40)))
    assert [r.text for r in replies] == [f"第{n}条" for n in range(40)]
    assert server.most_in_flight <= 4
    assert len(server.peers) <= 4  # connections are kept and reused


async def test_a_stalled_answer_is_timed_out_and_a_dropped_one_a_network_error(server: Server) -> None:
    async with Bot(TOKEN, base_url=server.url, request=AiohttpRequest(4)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(STALL, "等", read_timeout=0.2)
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(DROP, "断")
        assert not isinstance(dropped.value, TimedOut)
        assert "aiohttp." in dropped.value.message
        assert (await bot.send_message(7, "之后")).text == "之后"  # the pool recovers


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_is_a_network_error_naming_it() -> None:
    request = AiohttpRequest(2, connect_timeout=1)
    port = closed_port()
    with pytest.raises(NetworkError) as refused:
        async with Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request):
            pass
    assert not isinstance(refused.value, TimedOut)
    assert f"127.0.0.1:{port}" in refused.value.message
    await request.shutdown()


async def test_the_request_opens_again_after_a_shutdown(server: Server) -> None:
    request = AiohttpRequest(2)
    bot = Bot(TOKEN, base_url=server.url, request=request)
    for round_ in range(2):
        async with bot:
            assert (await bot.send_message(5, f"第{round_}轮")).text == f"第{round_}轮"
    with pytest.raises(NetworkError, match="not initialized"):  # as HTTPXRequest: a RuntimeError, wrapped
        await request.post(f"{server.url}{TOKEN}/getMe")
    assert [f["text"] for f in server.forms if f["method"] == "sendMessage"] == ["第0轮", "第1轮"]
