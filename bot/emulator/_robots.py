"""Local stand-ins for the group-robot webhooks of WeCom, DingTalk and Feishu, written from their
public docs (not from bot/robots: a mistake there must show here as a refusal).

    async with RobotsEmulator() as robots:
        url = robots.add("dingtalk", secret="SEC…")   # the webhook, as the app would show it
        ...  # send to url
        robots.messages(url)                          # what the group got, in order

Each answers as its app documents: HTTP 200 with `errcode`/`code` 0, or another code. It checks
the key, the signature and its timestamp's freshness (an hour), the message's shape and size,
a keyword filter if one is set, and the app's rate limits; `answer` makes it give a code
(a rate limit, a bad key …) to the next calls, `revoke` removes a robot as its group's owner would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.emulator._records import JSON
from bot.emulator._serve import serve

__all__ = ["RobotMessage", "RobotRequest", "RobotsEmulator"]

_FRESH = 3600.0  # seconds a signature's timestamp may be off, for both DingTalk and Feishu
_MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class _App:
    path: str  # where its webhook is
    code_field: str
    message_field: str
    per_minute: int
    per_second: int | None
    answers: dict[str, tuple[int, str]]  # what → (code, message), in the app's words


_APPS: dict[str, _App] = {
    "wecom": _App(
        "/cgi-bin/webhook/send", "errcode", "errmsg", 20, None,
        {"ok": (0, "ok"), "bad_key": (93000, "invalid webhook url"), "rate": (45009, "api freq out of limit"),
         "markdown_size": (40058, "markdown.content exceed max length 4096"),
         "text_size": (40058, "text.content exceed max length 2048"), "shape": (40008, "invalid message type")},
    ),
    "dingtalk": _App(
        "/robot/send", "errcode", "errmsg", 20, None,
        {"ok": (0, "ok"), "bad_key": (300001, "token is not exist"),
         "rate": (130101, "send too fast, exceed 20 times per minute"), "sign": (310000, "sign not match"),
         "stale": (310000, "invalid timestamp"), "keywords": (310000, "keywords not in content"),
         "size": (460101, "message too long, exceed 20000 bytes"), "shape": (40035, "缺少参数 json")},
    ),
    "feishu": _App(
        "/open-apis/bot/v2/hook/", "code", "msg", 100, 5,
        {"ok": (0, "success"), "bad_key": (19001, "param invalid: incoming webhook access token invalid"),
         "rate": (11232, "frequency limited"),
         "sign": (19021, "sign match fail or timestamp is not within one hour from current time"),
         "stale": (19021, "sign match fail or timestamp is not within one hour from current time"),
         "keywords": (19024, "Key Words Not Found"), "shape": (19002, "params error, msg_type need")},
    ),
}  # fmt: skip
_FEISHU_BODY = 20 * 1024  # bytes; the docs name the limit, not its answer: this stand-in says HTTP 413
_DINGTALK_BODY = 20_000
_WECOM_SIZES = {"markdown": 4096, "text": 2048}


@dataclass(frozen=True, slots=True)
class RobotMessage:
    """A message a group got: the payload as sent (Feishu's timestamp and sign left out)."""

    kind: str
    key: str
    payload: JSON
    at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class RobotRequest:
    """One call and the code it was answered with (-1: an HTTP error without the app's envelope)."""

    kind: str
    key: str
    query: dict[str, str]  # DingTalk's timestamp and sign are here
    body: JSON | None  # Feishu's are here
    status: int
    code: int
    at: float


@dataclass(slots=True)
class _Robot:
    kind: str
    secret: str | None
    keywords: tuple[str, ...]
    revoked: bool = False
    forced: deque[tuple[int, int, str]] = field(default_factory=deque)  # (status, code, message) of the next calls
    sent_at: deque[float] = field(default_factory=deque)  # accepted in the last minute


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RobotsEmulator:
    """The three apps' webhook APIs on one local port."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: list[RobotRequest] = []
        self._messages: list[RobotMessage] = []
        self._robots: dict[tuple[str, str], _Robot] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post(_APPS["wecom"].path, self._wecom)
        app.router.add_post(_APPS["dingtalk"].path, self._dingtalk)
        app.router.add_post(_APPS["feishu"].path + "{key}", self._feishu)
        self._runner, self.port = await serve(app, self.host, self.port)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def add(self, kind: str, *, secret: str | None = None, keywords: tuple[str, ...] = ()) -> str:
        """Add a robot of `kind` ("wecom", "dingtalk", "feishu"); return its webhook URL."""
        key = secrets.token_hex(16)
        self._robots[kind, key] = _Robot(kind, secret, keywords)
        root = f"http://{self.host}:{self.port}"
        query = {"wecom": "?key=", "dingtalk": "?access_token=", "feishu": ""}[kind]
        return f"{root}{_APPS[kind].path}{query}{key}"

    def _robot(self, url: str) -> _Robot:
        return next(r for (kind, key), r in self._robots.items() if url.endswith(key) and _APPS[kind].path in url)

    def answer(self, url: str, what: str = "rate", *, times: int = 1, status: int = 200) -> None:
        """Answer the next `times` calls to the robot with the app's code for `what` ("rate", "bad_key" …,
        see _APPS), or with HTTP `status` alone when `what` is "http"."""
        robot = self._robot(url)
        code, message = (-1, "") if what == "http" else _APPS[robot.kind].answers[what]
        robot.forced.extend([(status, code, message)] * times)

    def revoke(self, url: str) -> None:
        """Remove the robot from its group: every later call gets the app's bad-key answer."""
        self._robot(url).revoked = True

    def messages(self, url: str | None = None) -> list[RobotMessage]:
        """Return what the robot at `url` (None: every robot) got, in order."""
        if url is None:
            return list(self._messages)
        robot = self._robot(url)
        return [m for m in self._messages if self._robots.get((m.kind, m.key)) is robot]

    async def _wecom(self, request: web.Request) -> web.Response:
        return await self._handle("wecom", request.query.get("key", ""), request)

    async def _dingtalk(self, request: web.Request) -> web.Response:
        return await self._handle("dingtalk", request.query.get("access_token", ""), request)

    async def _feishu(self, request: web.Request) -> web.Response:
        return await self._handle("feishu", request.match_info["key"], request)

    async def _handle(self, kind: str, key: str, request: web.Request) -> web.Response:
        app, raw, now = _APPS[kind], await request.read(), time.monotonic()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        body = data if isinstance(data, dict) else None
        try:
            self._check(kind, key, request, raw, body, now)
        except _Refusal as refusal:
            status, code, message = refusal.status, refusal.code, refusal.message
        else:
            status, (code, message) = 200, app.answers["ok"]
        self.requests.append(RobotRequest(kind, key, dict(request.query), body, status, code, now))
        if code == -1:
            return web.Response(status=status, text=message or "error")
        envelope: JSON = {app.code_field: code, app.message_field: message} | ({"data": {}} if kind == "feishu" else {})
        return web.json_response(envelope, status=status)

    def _check(self, kind: str, key: str, request: web.Request, raw: bytes, body: JSON | None, now: float) -> None:
        """Raise the app's refusal, or record the message."""
        app = _APPS[kind]
        robot = self._robots.get((kind, key))
        if robot is None or robot.revoked:
            raise _Refusal(200, *app.answers["bad_key"])
        if robot.forced:
            raise _Refusal(*robot.forced.popleft())
        if robot.secret is not None:
            _check_signature(kind, robot.secret, request.query if kind == "dingtalk" else (body or {}), app)
        if kind == "feishu" and len(raw) > _FEISHU_BODY:
            raise _Refusal(413, -1, "request body too large")
        if kind == "dingtalk" and len(raw) > _DINGTALK_BODY:
            raise _Refusal(200, *app.answers["size"])
        text = _text_of(kind, body, app)
        if robot.keywords and not any(word in text for word in robot.keywords):
            raise _Refusal(200, *app.answers["keywords"])
        while robot.sent_at and robot.sent_at[0] <= now - _MINUTE:
            robot.sent_at.popleft()
        in_second = sum(1 for at in robot.sent_at if at > now - 1)
        if len(robot.sent_at) >= app.per_minute or (app.per_second and in_second >= app.per_second):
            raise _Refusal(200, *app.answers["rate"])
        robot.sent_at.append(now)
        assert body is not None  # _text_of refused anything else
        payload = {k: v for k, v in body.items() if kind != "feishu" or k not in ("timestamp", "sign")}
        self._messages.append(RobotMessage(kind, key, payload, now))


def _check_signature(kind: str, secret: str, fields: Mapping[str, Any], app: _App) -> None:
    """Check the timestamp and sign as the app's docs define them: DingTalk's in the query, in milliseconds;
    Feishu's in the body, in seconds."""
    stamp, sign = fields.get("timestamp"), fields.get("sign")
    if not isinstance(stamp, str) or not stamp.isdigit() or not isinstance(sign, str):
        raise _Refusal(200, *app.answers["sign"])
    seconds = int(stamp) / 1000 if kind == "dingtalk" else int(stamp)
    if abs(time.time() - seconds) > _FRESH:
        raise _Refusal(200, *app.answers["stale"])
    to_sign = f"{stamp}\n{secret}".encode()
    if kind == "dingtalk":  # keyed on the secret, over the string
        digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    else:  # keyed on the string, over nothing
        digest = hmac.new(to_sign, b"", hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
        raise _Refusal(200, *app.answers["sign"])


def _text_of(kind: str, body: JSON | None, app: _App) -> str:
    """Return the message's text (for the keyword filter), refusing a malformed or oversized one."""
    if body is None:
        raise _Refusal(200, *app.answers["shape"])
    try:
        if kind == "wecom":
            msgtype = body["msgtype"]
            content = body[msgtype]["content"]
            if msgtype not in _WECOM_SIZES or not isinstance(content, str):
                raise _Refusal(200, *app.answers["shape"])
            if len(content.encode()) > _WECOM_SIZES[msgtype]:
                raise _Refusal(200, *app.answers[f"{msgtype}_size"])
            return content
        if kind == "dingtalk":
            if body["msgtype"] == "markdown":
                markdown = body["markdown"]
                return str(markdown["title"]) + str(markdown["text"])
            if body["msgtype"] == "text":
                return str(body["text"]["content"])
            raise _Refusal(200, *app.answers["shape"])
        if body["msg_type"] == "text":
            return str(body["content"]["text"])
        if body["msg_type"] in ("post", "interactive"):
            return json.dumps(body["content"] if "content" in body else body["card"], ensure_ascii=False)
    except (KeyError, TypeError) as exc:
        raise _Refusal(200, *app.answers["shape"]) from exc
    raise _Refusal(200, *app.answers["shape"])
