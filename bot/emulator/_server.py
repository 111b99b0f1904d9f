"""A local Telegram Bot API server for tests, benchmarks and the offline ``newsbot chat`` mode.

    async with BotAPIEmulator(token=TOKEN) as emu:
        app = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
        ...  # start the application and its updater
        emu.send_text(42, "/start")
        reply = await emu.wait_for(lambda sent: sent.chat_id == 42 and sent.method == "sendMessage")
        emu.press(42, reply, "menu:1")

It answers ``/bot<token>/<method>`` (form, multipart, JSON or query parameters) in Telegram's envelope
and checks what Telegram checks where that is cheap: HTML against Telegram's tag subset (with tdlib's
error messages), 4096 characters once tags are removed, 1-64 bytes of ``callback_data``, edits that
change nothing, unknown callback queries, callback answers over 200 characters. Users act through
``send_text``, ``edit_text``, ``delete``, ``press`` and ``post_channel``; updates go out by long-polling
``getUpdates``. The bot's actions are recorded in ``sent``, requests in ``http_log``; ``fail``, ``block``,
``delay`` and ``drop_connection`` inject faults.
Every integer chat id exists (private if positive, a group if negative, a supergroup from -10**12 down);
channels and ``@username`` ids are registered with ``add_chat``. Markdown is not checked; no files are served.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from itertools import islice
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.emulator._html import visible_text
from bot.emulator._records import JSON, ApiError, Fault, LoggedRequest, Sent
from bot.emulator._serve import serve

__all__ = ["GROUP_ANONYMOUS_BOT", "BotAPIEmulator"]

_Key = tuple[int, int]  # (chat id, message id)
_Source = tuple[str | None, str | None]  # a message of the bot as it sent it: (text, parse mode)

_CALLBACK_DATA_LIMIT = 64  # bytes
_ANSWER_LIMIT = 200  # characters of an answerCallbackQuery notification or alert
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_ACTIONS = frozenset(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
_CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document choose_sticker "
    "find_location record_video_note upload_video_note".split()
)
_DEFAULT_ERRORS = {400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by the user",
                   500: "Internal Server Error", 502: "Bad Gateway"}  # fmt: skip
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_ADMIN_RIGHTS = (
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members can_promote_members "
    "can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories can_post_messages "
    "can_edit_messages can_pin_messages".split()
)
# The fields PTB requires for each ChatMember status, with set_member's defaults.
_MEMBER_FIELDS: dict[str, JSON] = {
    "creator": {"is_anonymous": False},
    "administrator": {"can_be_edited": False, "is_anonymous": False} | dict.fromkeys(_ADMIN_RIGHTS, True),
    "kicked": {"until_date": 0},
}
# The user Telegram names as the sender of what an anonymous group admin posts (as the group).
GROUP_ANONYMOUS_BOT: JSON = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
_GIFT_TYPES = "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels".split()


class BotAPIEmulator:
    """A Bot API server on a local port, with the simulated users, faults and records tests need."""

    def __init__(
        self, *, token: str = "123456:TEST", host: str = "127.0.0.1", port: int = 0, username: str = "newsbot_test_bot"
    ) -> None:
        self.token, self.host, self.port = token, host, port
        prefix = token.split(":", 1)[0]
        self.bot: JSON = {"id": int(prefix) if prefix.isdigit() else 1, "is_bot": True, "first_name": "newsbot",
                          "username": username}  # fmt: skip
        self.sent: list[Sent] = []
        self.http_log: list[LoggedRequest] = []
        self.webhook: JSON = {"url": ""}  # the last setWebhook's parameters
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope as sorted JSON, language code) → commands
        self._by_chat: defaultdict[int, list[Sent]] = defaultdict(list)  # messages the bot created, per chat
        self._watchers: list[asyncio.Queue[Sent]] = []
        self._chats: dict[int, JSON] = {}
        self._usernames: dict[str, int] = {}
        self._users: dict[int, JSON] = {}
        self._members: dict[_Key, JSON] = {}  # (chat, user) → ChatMember without "user"
        self._messages: dict[_Key, JSON] = {}  # every message as it is now
        self._own: dict[_Key, _Source] = {}  # the messages the bot sent
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._queries: dict[str, _Key] = {}  # unanswered callback query id → the message pressed
        self._updates: deque[JSON] = deque()
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default, which has ours
        self._arrival = asyncio.Event()  # set, and replaced, when an update arrives or a poll must end
        self._poll = 0  # the newest getUpdates; an older long poll ends with 409 Conflict
        self._closing = False
        self._faults: defaultdict[str, list[Fault]] = defaultdict(list)
        self._blocked: set[int] = set()
        self._delays: dict[str, tuple[float, float | None]] = {}  # method → (seconds, until)
        self._drops: dict[str, tuple[int, bool, float | None]] = {}  # method → (times left, after handling, until)
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[JSON], Any]] = {  # "sendmessage" → self._send_message
            name.lower(): getattr(self, re.sub(r"([A-Z])", r"_\1", "_" + name).lower())
            for name in (
                "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
                "setMyCommands", "getMyCommands", "deleteMyCommands", "sendMessage", "editMessageText",
                "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery", "sendChatAction",
                "forwardMessage", "copyMessage", "getChat", "getChatMember",
            )
        }  # fmt: skip

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Cancel the handlers of clients that left (long polls).
        self._runner, self.port = await serve(app, self.host, self.port, handler_cancellation=True)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """Return the value for ``ApplicationBuilder().base_url``: PTB appends ``<token>/<method>``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the value for ``ApplicationBuilder().base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    # ---- what the bot did ----------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Return the messages the bot sent, forwarded or copied to a chat, oldest first."""
        return list(self._by_chat[chat_id])

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """Return a message as it is now (edited; None once deleted), as Telegram sends it."""
        return self._messages.get((chat_id, message_id))

    @contextmanager
    def watch(self) -> Iterator[asyncio.Queue[Sent]]:
        """Yield a queue that receives every `Sent` record made while the block runs."""
        queue: asyncio.Queue[Sent] = asyncio.Queue()
        self._watchers.append(queue)
        try:
            yield queue
        finally:
            self._watchers.remove(queue)

    async def wait_for(self, predicate: Callable[[Sent], bool], timeout: float = 5.0) -> Sent:
        """Return the first record, already made or to come, that matches.

        Raises:
            TimeoutError: nothing matched within ``timeout`` seconds.
        """
        with self.watch() as queue:
            for record in self.sent:
                if predicate(record):
                    return record
            try:
                async with asyncio.timeout(timeout):
                    while not predicate(record := await queue.get()):
                        pass
                    return record
            except TimeoutError:
                recent = "".join(f"\n  {r.method} {r.chat_id}/{r.message_id}: {r.text!r}" for r in self.sent[-5:])
                raise TimeoutError(f"nothing the bot did matched in {timeout}s; the last records:{recent}") from None

    def clear(self) -> None:
        """Forget the records (``sent``, ``http_log``); chats, messages and pending updates stay."""
        self.sent.clear()
        self.http_log.clear()
        self._by_chat.clear()

    # ---- users and chats -----------------------------------------------------------------------

    def add_chat(
        self, chat_id: int, *, type: str | None = None, title: str | None = None, username: str | None = None
    ) -> JSON:
        """Register (or replace) a chat: ``title`` is a private chat's first name; ``type`` defaults from the id."""
        kind = type or ("private" if chat_id > 0 else "supergroup" if chat_id <= -(10**12) else "group")
        chat: JSON = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = title or self._users.get(chat_id, {}).get("first_name") or f"User {chat_id}"
        else:
            chat["title"] = title or f"{kind.title()} {chat_id}"
        if username:
            chat["username"] = username
            self._usernames[username.lower()] = chat_id
        self._chats[chat_id] = chat
        return chat

    def set_member(self, chat_id: int, user_id: int, status: str = "administrator", **fields: Any) -> None:
        """Set what getChatMember answers (otherwise "member"); ``fields`` override the status's defaults."""
        self._members[(chat_id, user_id)] = {"status": status, **_MEMBER_FIELDS.get(status, {}), **fields}

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, language_code: str = "zh-hans",
        first_name: str | None = None, username: str | None = None, reply_to: Sent | int | None = None,
        anonymous: bool = False,
    ) -> JSON:  # fmt: skip
        """Queue a user's text message (``/commands`` get bot_command entities) and return the update.

        ``anonymous``: an anonymous admin of the group ``chat_id`` posts as the group, so the message
        comes from GroupAnonymousBot with ``sender_chat`` the group, and never names the user.
        """
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}
        self._users[user_id] = user | ({"username": username} if username else {}) | {"language_code": language_code}
        chat = user_id if chat_id is None else chat_id
        if chat == user_id:
            if anonymous:
                raise ValueError("only a group's admin posts anonymously, in the group")
            self.add_chat(user_id, title=user["first_name"], username=username)
        author: JSON = (
            {"from": GROUP_ANONYMOUS_BOT, "sender_chat": self._chat(chat)}
            if anonymous
            else {"from": self._users[user_id]}
        )
        fields: JSON = author | {"text": text, **_command_entities(text)}
        if reply_to is not None:
            target = self._messages.get((chat, reply_to if isinstance(reply_to, int) else reply_to.message_id))
            if target is None:
                raise ValueError(f"no message {reply_to!r} in chat {chat} to reply to")
            fields["reply_to_message"] = target
        return self._enqueue("message", self._new_message(chat, fields))

    def edit_text(self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None) -> JSON:
        """Queue a user's edit of a message they sent and return the update."""
        key = (user_id if chat_id is None else chat_id, message_id)
        message = self._messages.get(key)
        if message is None or message.get("from", {}).get("id") != user_id:
            raise ValueError(f"user {user_id} sent no message {key}")
        unchanged = {k: v for k, v in message.items() if k != "entities"}
        self._messages[key] = unchanged | {"text": text, "edit_date": int(time.time()), **_command_entities(text)}
        return self._enqueue("edited_message", self._messages[key])

    def press(
        self, user_id: int, message: Sent | int, data: str, *, chat_id: int | None = None, forged: bool = False
    ) -> JSON:
        """Queue a press of the button with ``data`` on a message the bot sent and return the update.

        ``forged`` skips the check that such a button exists: the data a modified client, or a keyboard
        left by an older version of the bot, sends back.
        """
        key = (message.chat_id, message.message_id) if isinstance(message, Sent) else (chat_id or user_id, message)
        current = self._messages.get(key)
        rows = (current or {}).get("reply_markup", {}).get("inline_keyboard", [])
        if not forged and not any(button.get("callback_data") == data for row in rows for button in row):
            raise ValueError(f"message {key} has no button with callback_data {data!r}")
        query_id = str(self._last_update_id + 1)
        self._queries[query_id] = key
        user = self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        query = {"id": query_id, "from": user, "message": current, "chat_instance": str(key[0]), "data": data}
        return self._enqueue("callback_query", query)

    def delete(self, user_id: int, message_id: int, *, chat_id: int | None = None) -> None:
        """Delete a message as the user does in a private chat (either side's); Telegram tells the bot nothing."""
        key = (user_id if chat_id is None else chat_id, message_id)
        if self._messages.pop(key, None) is None:
            raise ValueError(f"no message {key} to delete")
        self._own.pop(key, None)

    def post_channel(self, chat_id: int, text: str) -> JSON:
        """Queue a post in a channel (see ``add_chat``) and return the update."""
        message = self._new_message(chat_id, {"sender_chat": self._chat(chat_id), "text": text})
        return self._enqueue("channel_post", message)

    # ---- faults --------------------------------------------------------------------------------

    def fail(
        self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1, chat_id: int | None = None,
        description: str | None = None, migrate_to_chat_id: int | None = None, lasting: float | None = None,
    ) -> None:  # fmt: skip
        """Make the next ``times`` calls of ``method`` (for ``chat_id`` only, if given) answer with an error.

        With ``lasting``, every such call for that many seconds from now fails instead, however many
        (an outage rather than a count). A 429 carries ``retry_after``; ``migrate_to_chat_id`` (with status
        400) says the group became that supergroup. Descriptions default to Telegram's: 403 "bot was blocked
        by the user", 400 "chat not found", 500, 502 "Bad Gateway".
        """
        parameters: JSON | None = None
        if migrate_to_chat_id is not None:
            parameters = {"migrate_to_chat_id": migrate_to_chat_id}
            default = "Bad Request: group chat was upgraded to a supergroup chat"
        elif status == 429:
            parameters = {"retry_after": retry_after}
            default = f"Too Many Requests: retry after {retry_after}"
        else:
            default = _DEFAULT_ERRORS.get(status) or HTTPStatus(status).phrase
        fault = Fault(status, description or default, parameters, chat_id, times, _deadline(lasting))
        self._faults[method.lower()].append(fault)

    def block(self, chat_id: int) -> None:
        """Answer sends and edits in ``chat_id`` with 403, as after the user blocked the bot, until unblocked."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Let sends to ``chat_id`` through again."""
        self._blocked.discard(chat_id)

    def delay(self, method: str, seconds: float, *, lasting: float | None = None) -> None:
        """Wait ``seconds`` before handling each call of ``method`` (0 stops); a client that gives up cancels it.

        With ``lasting``, only calls arriving within that many seconds from now wait.
        """
        self._delays[method.lower()] = (seconds, _deadline(lasting))

    def drop_connection(
        self, method: str, times: int = 1, *, after: bool = False, lasting: float | None = None
    ) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without an answer.

        With ``after``, each call takes effect first (the message is sent) and only the answer is lost.
        With ``lasting``, every call for that many seconds from now is dropped instead, however many.
        """
        self._drops[method.lower()] = (times, after, _deadline(lasting))

    # ---- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        key, arrived = method.lower(), time.monotonic()
        params = await _read_params(request)
        seconds, until = self._delays.get(key, (0.0, None))
        if seconds and (until is None or arrived < until):
            await asyncio.sleep(seconds)
        drop = self._take_drop(key)
        status, body = 0, {}
        if drop is not False:  # False: drop before handling
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, "Unauthorized")
                if key not in self._methods:
                    raise ApiError(404, "Not Found: method not found")
                self._raise_fault(key, params)
                status, body = 200, {"ok": True, "result": await self._methods[key](params)}
            except ApiError as error:
                status, body = error.status, error.body()
        self.http_log.append(LoggedRequest(method, params, 0 if drop is not None else status, arrived))
        if drop is not None and request.transport is not None:
            request.transport.abort()  # the response below is never written
        return web.json_response(body, status=status or 200)

    def _take_drop(self, key: str) -> bool | None:
        """Return None to answer, else whether the call is handled before its connection is dropped."""
        if key not in self._drops:
            return None
        times, after, until = self._drops.pop(key)
        if until is not None:
            if time.monotonic() >= until:
                return None  # the outage is over
            self._drops[key] = (times, after, until)
        elif times > 1:
            self._drops[key] = (times - 1, after, until)
        return after

    def _raise_fault(self, key: str, params: JSON) -> None:
        faults = self._faults.get(key, [])
        now = time.monotonic()
        faults[:] = [fault for fault in faults if fault.until is None or now < fault.until]
        for fault in faults:
            if fault.chat_id is None or str(fault.chat_id) == str(params.get("chat_id")):
                if fault.until is None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        faults.remove(fault)
                raise ApiError(fault.status, fault.description, fault.parameters)

    # ---- state ---------------------------------------------------------------------------------

    def _chat(self, chat_id: int) -> JSON:
        return self._chats.get(chat_id) or self.add_chat(chat_id)

    def _target(self, params: JSON, name: str = "chat_id", *, send: bool = True) -> int:
        """Return the chat a call names; sending to a chat that blocked the bot fails."""
        value = params.get(name)
        if value in (None, ""):
            raise ApiError(400, f"Bad Request: {name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            chat_id = self._usernames.get(value[1:].lower())
        else:
            chat_id = int(value) if str(value).lstrip("-").isdigit() else None
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat not found")
        if send and chat_id in self._blocked:
            who = "blocked by the user" if chat_id > 0 else "kicked from the group chat"
            raise ApiError(403, f"Forbidden: bot was {who}")
        return chat_id

    def _stored(self, chat_id: int, params: JSON, missing: str) -> JSON:
        message = self._messages.get((chat_id, _int(params, "message_id") or 0))
        if message is None:
            raise ApiError(400, f"Bad Request: {missing}")
        return message

    def _new_message(self, chat_id: int, fields: JSON) -> JSON:
        self._last_message_id[chat_id] += 1
        message_id = self._last_message_id[chat_id]
        message = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id), **fields}
        self._messages[(chat_id, message_id)] = message
        return message

    def _deliver(self, method: str, params: JSON, chat_id: int, fields: JSON, source: _Source) -> JSON:
        """Create the bot's message in a chat, with the keyboard and reply the call asks for, and record it."""
        if markup := _inline_keyboard(params):
            fields["reply_markup"] = markup
        if reply := self._reply_target(chat_id, params):
            fields["reply_to_message"] = reply
        chat = self._chat(chat_id)
        author = {"sender_chat": chat} if chat["type"] == "channel" else {"from": self.bot}
        message = self._new_message(chat_id, author | fields)
        key = (chat_id, message["message_id"])
        self._own[key] = source
        self._record(method, params, key, source[0], new=True)
        return message

    def _reply_target(self, chat_id: int, params: JSON) -> JSON | None:
        reply = _json(params, "reply_parameters") or {}
        message_id = reply.get("message_id") or _int(params, "reply_to_message_id")
        if not message_id:
            return None
        target = self._messages.get((int(reply.get("chat_id") or chat_id), int(message_id)))
        anyway = reply.get("allow_sending_without_reply") or _bool(params, "allow_sending_without_reply")
        if target is None and not anyway:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _record(self, method: str, params: JSON, key: _Key, text: str | None, *, new: bool = False) -> None:
        """Record what the bot did and hand it to the watchers; ``new`` for a message it created."""
        markup = _json(params, "reply_markup")
        record = Sent(method, *key, text, params.get("parse_mode"), markup if isinstance(markup, dict) else None,
                      params, time.monotonic())  # fmt: skip
        self.sent.append(record)
        if new:
            self._by_chat[key[0]].append(record)
        for queue in self._watchers:
            queue.put_nowait(record)

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        if self._allowed_updates is None or kind in self._allowed_updates:
            self._updates.append(update)
            self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        self._arrival.set()
        self._arrival = asyncio.Event()

    # ---- Bot API methods -----------------------------------------------------------------------

    async def _get_me(self, params: JSON) -> JSON:
        return self.bot | {"can_join_groups": True, "can_read_all_group_messages": False,
                           "supports_inline_queries": False}  # fmt: skip

    async def _log_out(self, params: JSON) -> bool:
        return True

    _close = _log_out

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                                 "delete the webhook first")  # fmt: skip
        offset, limit = _int(params, "offset") or 0, min(max(_int(params, "limit") or 100, 1), 100)
        if (allowed := _json(params, "allowed_updates")) is not None:
            self._allowed_updates = frozenset(allowed) or None
        while self._updates and (0 < offset > self._updates[0]["update_id"] or len(self._updates) > -offset > 0):
            self._updates.popleft()  # confirmed (offset > 0), or beyond the last -offset (offset < 0)
        self._poll += 1
        poll = self._poll
        self._wake_pollers()  # an older long poll now ends with 409, as on Telegram
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._updates and not self._closing and (remaining := deadline - time.monotonic()) > 0:
            arrival = self._arrival
            try:
                async with asyncio.timeout(remaining):
                    await arrival.wait()
            except TimeoutError:
                break
            if poll != self._poll:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot "
                                     "instance is running")  # fmt: skip
        return list(islice(self._updates, limit))

    async def _set_webhook(self, params: JSON) -> bool:
        await self._delete_webhook(params)
        self.webhook = params | {"url": params.get("url") or ""}
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _commands_key(self, params: JSON) -> tuple[str, str]:
        scope = _json(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = _json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not _BOT_COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [{"command": c["command"], "description": c["description"]}
                                                     for c in commands]  # fmt: skip
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: JSON) -> JSON:
        chat_id = self._target(params)
        fields: JSON = {"text": visible_text(params.get("text"), params.get("parse_mode"))}
        return self._deliver("sendMessage", params, chat_id, fields, (params["text"], params.get("parse_mode")))

    async def _forward_message(self, params: JSON) -> JSON:
        chat_id = self._target(params)
        source = self._stored(self._target(params, "from_chat_id", send=False), params, "message to forward not found")
        origin: JSON = (
            {"type": "user", "sender_user": source["from"]}
            if "from" in source
            else {"type": "channel", "chat": source["chat"], "message_id": source["message_id"]}
        )
        fields: JSON = {k: source[k] for k in ("text", "entities") if k in source}
        fields["forward_origin"] = origin | {"date": source["date"]}
        return self._deliver("forwardMessage", params, chat_id, fields, (source.get("text"), None))

    async def _copy_message(self, params: JSON) -> JSON:
        chat_id = self._target(params)
        source = self._stored(self._target(params, "from_chat_id", send=False), params, "message to copy not found")
        fields: JSON = {k: source[k] for k in ("text", "entities") if k in source}
        message = self._deliver("copyMessage", params, chat_id, fields, (source.get("text"), None))
        return {"message_id": message["message_id"]}

    async def _edit_message_text(self, params: JSON) -> JSON:
        return self._edit("editMessageText", params, visible_text(params.get("text"), params.get("parse_mode")))

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        return self._edit("editMessageReplyMarkup", params, None)

    def _edit(self, method: str, params: JSON, text: str | None) -> JSON:
        """Change the text (unless None) and keyboard of the bot's message; no keyboard given removes it."""
        chat_id = self._target(params)
        message = self._stored(chat_id, params, "message to edit not found")
        key = (chat_id, message["message_id"])
        if key not in self._own:
            raise ApiError(400, "Bad Request: message can't be edited")
        source = self._own[key] if text is None else (params["text"], params.get("parse_mode"))
        markup = _inline_keyboard(params)
        if source == self._own[key] and markup == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        edited = {k: v for k, v in message.items() if k != "reply_markup"} | {"edit_date": int(time.time())}
        edited |= ({"text": text} if text is not None else {}) | ({"reply_markup": markup} if markup else {})
        self._messages[key], self._own[key] = edited, source
        self._record(method, params, key, params.get("text"))
        return edited

    async def _delete_message(self, params: JSON) -> bool:
        chat_id = self._target(params, send=False)
        key = (chat_id, self._stored(chat_id, params, "message to delete not found")["message_id"])
        del self._messages[key]
        self._own.pop(key, None)
        self._record("deleteMessage", params, key, None)
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        if len(str(params.get("text") or "")) > _ANSWER_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        key = self._queries.pop(str(params.get("callback_query_id")), None)
        if key is None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._record("answerCallbackQuery", params, key, params.get("text"))
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._target(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _get_chat(self, params: JSON) -> JSON:
        chat = self._chat(self._target(params, send=False))
        gifts = dict.fromkeys(_GIFT_TYPES, False)
        return chat | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _get_chat_member(self, params: JSON) -> JSON:
        chat_id, user_id = self._target(params, send=False), _int(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: user_id is empty")
        user = self.bot if user_id == self.bot["id"] else self._users.get(user_id)
        member = self._members.get((chat_id, user_id), {"status": "member"})
        return member | {"user": user or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}}


def _deadline(lasting: float | None) -> float | None:
    """Return when a fault that lasts ``lasting`` seconds from now ends (time.monotonic()), or None."""
    if lasting is None:
        return None
    if lasting <= 0:
        raise ValueError(f"lasting must be positive, not {lasting}")
    return time.monotonic() + lasting


# ---- parameters --------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> JSON:
    """Return the call's parameters from the query string and a form, multipart or JSON body."""
    params: JSON = dict(request.query)
    if request.can_read_body and request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.can_read_body:
        params.update((k, v) for k, v in (await request.post()).items() if isinstance(v, str))  # files are ignored
    return params


def _int(params: JSON, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _bool(params: JSON, name: str) -> bool:
    return params.get(name) in (True, "true", "True", "1", 1)


def _json(params: JSON, name: str) -> Any:
    """Return a structured parameter: form bodies carry it as a JSON string, JSON bodies as is."""
    value = params.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


# ---- validation --------------------------------------------------------------------------------


def _inline_keyboard(params: JSON) -> JSON | None:
    """Return the inline keyboard a message keeps (reply keyboards are not part of it), checking its buttons."""
    markup = _json(params, "reply_markup")
    if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, 'Bad Request: field "inline_keyboard" of InlineKeyboardMarkup must be an Array of Arrays')
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be a String")
        if not _BUTTON_ACTIONS & button.keys():
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
                                 "inline keyboard")  # fmt: skip
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= _CALLBACK_DATA_LIMIT:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def _command_entities(text: str) -> JSON:
    """Return ``{"entities": [...]}`` with the bot_command entities Telegram marks in a user's text, or {}."""
    entities = [
        {"type": "bot_command", "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]
    return {"entities": entities} if entities else {}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
