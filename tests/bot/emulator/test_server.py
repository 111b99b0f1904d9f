"""The Bot API emulator, driven by python-telegram-bot itself over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import GROUP_ANONYMOUS_BOT, BotAPIEmulator, Sent

USER = 1001
ADMIN_CHAT = -1001234567890


def is_reply_to(chat_id: int, method: str = "sendMessage") -> Callable[[Sent], bool]:
    return lambda sent: sent.chat_id == chat_id and sent.method == method


@pytest.mark.asyncio
async def test_application_polls_replies_and_handles_a_button(emulator: BotAPIEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("订阅", callback_data="sub:1")]])
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"你好，<b>{context.args}</b>", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("已订阅")  # stop the client's spinner
        await query.edit_message_text(f"已订阅 {query.data}")

    app = (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .connection_pool_size(4)
        .get_updates_connection_pool_size(2)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)

        emulator.send_text(USER, "/start 新闻")
        reply = await emulator.wait_for(is_reply_to(USER))
        assert reply.text == "你好，<b>['新闻']</b>"
        assert reply.parse_mode == "HTML"
        assert reply.reply_markup == {"inline_keyboard": [[{"text": "订阅", "callback_data": "sub:1"}]]}

        emulator.press(USER, reply, "sub:1")
        edit = await emulator.wait_for(is_reply_to(USER, "editMessageText"))
        await app.updater.stop()
        await app.stop()

    answer = next(s for s in emulator.sent if s.method == "answerCallbackQuery")
    assert (answer.chat_id, answer.message_id, answer.text) == (USER, reply.message_id, "已订阅")
    assert (edit.message_id, edit.text) == (reply.message_id, "已订阅 sub:1")
    current = emulator.message(USER, reply.message_id)
    assert current is not None and current["text"] == "已订阅 sub:1" and "reply_markup" not in current
    assert [s.message_id for s in emulator.messages_to(USER)] == [2]  # the user's /start was message 1
    called = {r.method for r in emulator.http_log}
    assert {"getMe", "deleteWebhook", "getUpdates"} <= called
    assert all(emulator.token not in repr(r) for r in emulator.http_log)


@pytest.mark.asyncio
async def test_commands_carry_bot_command_entities(emulator: BotAPIEmulator) -> None:
    update = emulator.send_text(USER, "/start@newsbot_test_bot 😀 /help", first_name="张三")
    message = update["message"]
    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 23},
        {"type": "bot_command", "offset": 27, "length": 5},  # the emoji is two UTF-16 code units
    ]
    assert message["chat"] == {"id": USER, "type": "private", "first_name": "张三"}
    assert "entities" not in emulator.send_text(USER, "路径 a/b 不是命令")["message"]


@pytest.mark.asyncio
async def test_get_updates_long_polls_and_confirms_with_offset(bot: Bot, emulator: BotAPIEmulator) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=timedelta(seconds=0.3)) == ()
    assert time.monotonic() - started >= 0.25

    asyncio.get_running_loop().call_later(0.1, emulator.send_text, USER, "你好")
    started = time.monotonic()
    (first,) = await bot.get_updates(timeout=5)
    assert time.monotonic() - started < 2
    assert first.message is not None and first.message.text == "你好"

    emulator.send_text(USER, "第二条")
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first.update_id, first.update_id + 1]
    rest = await bot.get_updates(offset=first.update_id + 1, limit=1, timeout=0)
    assert [u.update_id for u in rest] == [first.update_id + 1]
    assert await bot.get_updates(offset=first.update_id + 2, timeout=0) == ()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("价格 a < b", 'Unsupported start tag "" at byte offset 9'),
        ("<b>未闭合", 'Can\'t find end tag corresponding to start tag "b"'),
        ("换行<br>", 'Unsupported start tag "br" at byte offset 6'),
        ("<b>交错</i>", 'Unmatched end tag at byte offset 9, expected "</b>", found "</i>"'),
        ("多余</b>", "Unexpected end tag at byte offset 6"),
        ("<a href=https://example.com>链接</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>剧透</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("结尾 <b", "Unclosed start tag at byte offset 7"),
    ],
)
async def test_malformed_html_is_refused_as_telegram_does(
    bot: Bot, emulator: BotAPIEmulator, html: str, problem: str
) -> None:
    with pytest.raises(BadRequest) as error:
        await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    # PTB drops "Bad Request: " and capitalises the rest, as it does with Telegram's answers.
    assert error.value.message == f"Can't parse entities: {problem}".capitalize()
    assert emulator.sent == []


@pytest.mark.asyncio
async def test_well_formed_html_is_accepted(bot: Bot, emulator: BotAPIEmulator) -> None:
    html = (
        '<b>要闻</b> <strong>AT&T</strong> &lt;通知&gt; &#20013;&#x6587; <a href="https://example.com/?a=1&amp;b=2">原文</a>'
        '<span class="tg-spoiler">剧透</span><tg-spoiler>剧透</tg-spoiler><blockquote expandable>引文</blockquote>'
        '<pre><code class="language-python">x = 1</code></pre><i>斜</><u>下</u><s>删</s>'
    )
    message = await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert message.text == "要闻 AT&T <通知> 中文 原文剧透剧透引文x = 1斜下删"


@pytest.mark.asyncio
async def test_text_limit_counts_characters_without_tags(bot: Bot) -> None:
    await bot.send_message(USER, "<b>" + "字" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "字" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)


@pytest.mark.asyncio
async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="字" * 21)]])  # 63 bytes
    await bot.send_message(USER, "ok", reply_markup=fits)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("长", callback_data="字" * 22)]])  # 66 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "no", reply_markup=too_long)


@pytest.mark.asyncio
async def test_editing_without_change_is_not_modified(bot: Bot, emulator: BotAPIEmulator) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="more")]])
    message = await bot.send_message(USER, "<b>标题</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("<b>标题</b>", USER, message.message_id, parse_mode="HTML", reply_markup=keyboard)
    await bot.edit_message_text("<b>标题</b>", USER, message.message_id, parse_mode="HTML")  # drops the keyboard
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, message.message_id)
    await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard)
    assert await bot.delete_message(USER, message.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("新", USER, message.message_id)
    assert [s.method for s in emulator.sent] == [
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage",
    ]  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int → timedelta in v23
async def test_rate_limit_fault_raises_retry_after_once(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(USER, "快讯")
    assert error.value.retry_after in (3, timedelta(seconds=3))
    await bot.send_message(USER, "快讯")
    assert [r.status for r in emulator.http_log if r.method == "sendMessage"] == [429, 200]


@pytest.mark.asyncio
async def test_faults_map_to_ptb_errors(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail("sendMessage", status=403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")
    emulator.fail("sendMessage", status=400)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "x")
    emulator.fail("sendMessage", status=400, migrate_to_chat_id=ADMIN_CHAT)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-42, "x")
    assert migrated.value.new_chat_id == ADMIN_CHAT
    emulator.fail("sendMessage", status=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as gateway:
            await bot.send_message(USER, "x")
        assert not isinstance(gateway.value, BadRequest)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message("@nobody_here", "x")
    assert emulator.sent == []


@pytest.mark.asyncio
async def test_faults_for_one_chat_and_blocked_chats(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.fail("sendMessage", status=403, chat_id=2002, times=5)
    await bot.send_message(USER, "ok")
    with pytest.raises(Forbidden):
        await bot.send_message(2002, "x")

    emulator.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")
    assert (await bot.get_chat(USER)).id == USER  # reading still works
    emulator.unblock(USER)
    await bot.send_message(USER, "ok")
    assert [s.text for s in emulator.messages_to(USER)] == ["ok", "ok"]


@pytest.mark.asyncio
async def test_delay_and_dropped_connections(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.delay("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "慢", read_timeout=0.1)
    emulator.delay("sendMessage", 0)

    emulator.drop_connection("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "丢失")
    assert emulator.messages_to(USER) == []

    emulator.drop_connection("sendMessage", after=True)  # sent, but the answer is lost
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "已送达")
    assert [s.text for s in emulator.messages_to(USER)] == ["已送达"]
    assert (await bot.send_message(USER, "恢复")).message_id == 2


@pytest.mark.asyncio
async def test_faults_lasting_a_while_then_ending(bot: Bot, emulator: BotAPIEmulator) -> None:
    """`lasting` makes an outage of a length rather than a count: every call within it fails."""
    emulator.fail("sendMessage", status=502, lasting=0.3)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "x")
    emulator.drop_connection("getChat", lasting=0.3)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.get_chat(USER)
    emulator.delay("sendChatAction", 0.5, lasting=0.3)
    with pytest.raises(TimedOut):
        await bot.send_chat_action(USER, "typing", read_timeout=0.1)
    await asyncio.sleep(0.35)

    started = time.monotonic()
    await bot.send_message(USER, "恢复")
    assert (await bot.get_chat(USER)).id == USER
    assert await bot.send_chat_action(USER, "typing", read_timeout=0.3)
    assert time.monotonic() - started < 0.3  # no stall once the outage is over
    assert [r.status for r in emulator.http_log if r.method == "sendMessage"] == [502, 502, 502, 200]
    assert [r.status for r in emulator.http_log if r.method == "getChat"] == [0, 0, 200]
    with pytest.raises(ValueError, match="lasting must be positive"):
        emulator.fail("sendMessage", lasting=0)


@pytest.mark.asyncio
async def test_commands_are_stored_per_scope_and_language(bot: Bot) -> None:
    commands = [BotCommand("start", "开始"), BotCommand("digest", "今日摘要")]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    await bot.set_my_commands([BotCommand("report", "举报")], scope=BotCommandScopeChat(ADMIN_CHAT))

    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh") == tuple(commands)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert await bot.get_my_commands(scope=BotCommandScopeChat(ADMIN_CHAT)) == (BotCommand("report", "举报"),)
    await bot.delete_my_commands(scope=BotCommandScopeChat(ADMIN_CHAT))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(ADMIN_CHAT)) == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "大写")])


@pytest.mark.asyncio
async def test_reports_are_forwarded_and_copied_to_the_admin_chat(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_chat(ADMIN_CHAT, title="管理员")
    report = emulator.send_text(USER, "举报：某路段积水", username="zhangsan")["message"]
    forwarded = await bot.forward_message(ADMIN_CHAT, USER, report["message_id"])
    assert forwarded.text == "举报：某路段积水"
    assert forwarded.forward_origin is not None and forwarded.forward_origin.sender_user.id == USER  # type: ignore[attr-defined]
    copied = await bot.copy_message(ADMIN_CHAT, USER, report["message_id"])
    reply = await bot.send_message(USER, "已收到", reply_parameters=ReplyParameters(report["message_id"]))
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "举报：某路段积水"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(999))
    assert [(s.method, s.message_id) for s in emulator.messages_to(ADMIN_CHAT)] == [
        ("forwardMessage", forwarded.message_id),
        ("copyMessage", copied.message_id),
    ]


@pytest.mark.asyncio
async def test_channel_admin_check_and_chat_lookup(bot: Bot, emulator: BotAPIEmulator) -> None:
    emulator.add_chat(-1009, type="channel", title="本地新闻", username="local_news")
    emulator.set_member(-1009, bot.id, "administrator", can_post_messages=False)
    member = await bot.get_chat_member("@local_news", bot.id)
    assert isinstance(member, ChatMemberAdministrator) and member.can_post_messages is False
    assert (await bot.get_chat_member(-1009, USER)).status == "member"
    chat = await bot.get_chat("@local_news")
    assert (chat.id, chat.type, chat.title) == (-1009, "channel", "本地新闻")
    post = await bot.send_message("@local_news", "早报")
    assert post.sender_chat is not None and post.sender_chat.id == -1009
    assert emulator.post_channel(-1009, "频道消息")["channel_post"]["message_id"] == 2


@pytest.mark.asyncio
async def test_answering_an_unknown_query_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("nope")


@pytest.mark.asyncio
async def test_wire_errors_for_tokens_and_methods(emulator: BotAPIEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emulator.base_url):
            pass
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{emulator.base_url}{emulator.token}/sendPigeon", data={"chat_id": "1"})
        json_body = await client.post(
            f"{emulator.base_url}{emulator.token}/sendmessage", json={"chat_id": 7, "text": "hi"}
        )
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert json_body.json()["result"]["text"] == "hi"


@pytest.mark.asyncio
async def test_wait_for_times_out_with_what_was_sent(bot: Bot, emulator: BotAPIEmulator) -> None:
    await bot.send_message(USER, "第一条")
    with pytest.raises(TimeoutError, match="第一条"):
        await emulator.wait_for(lambda sent: sent.text == "不存在", timeout=0.05)
    for i in range(20):
        await bot.send_message(USER, f"#{i}")
    records = emulator.messages_to(USER)
    assert [s.message_id for s in records] == list(range(1, 22))
    assert all(a.at <= b.at for a, b in itertools.pairwise(records))
    emulator.clear()
    assert emulator.sent == [] and emulator.messages_to(USER) == []


@pytest.mark.asyncio
async def test_polling_conflicts_like_telegram(bot: Bot, emulator: BotAPIEmulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(emulator.token, base_url=emulator.base_url) as second_process:
        assert await second_process.get_updates(timeout=0) == ()  # this ends the first process's long poll
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()


@pytest.mark.asyncio
async def test_allowed_updates_and_user_edits(bot: Bot, emulator: BotAPIEmulator) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["edited_message"])
    sent = emulator.send_text(USER, "/stat")["message"]  # not allowed: never queued
    emulator.edit_text(USER, sent["message_id"], "/start")
    (update,) = await bot.get_updates(timeout=0, allowed_updates=[])  # [] restores the default
    assert update.edited_message is not None and update.edited_message.text == "/start"
    assert update.edited_message.entities[0].length == 6
    emulator.send_text(USER, "你好")
    assert [u.message.text for u in await bot.get_updates(offset=update.update_id + 1, timeout=0) if u.message] == [
        "你好"
    ]


@pytest.mark.asyncio
async def test_press_needs_the_button_and_drops_are_logged(bot: Bot, emulator: BotAPIEmulator) -> None:
    plain = await bot.send_message(USER, "没有按钮")
    with pytest.raises(ValueError, match="no button"):
        emulator.press(USER, plain.message_id, "x")
    emulator.drop_connection("sendChatAction", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_chat_action(USER, "typing")
    assert await bot.send_chat_action(USER, "typing")
    assert [r.status for r in emulator.http_log if r.method == "sendChatAction"] == [0, 0, 200]


def test_an_anonymous_admin_posts_as_the_group(emulator: BotAPIEmulator) -> None:
    message = emulator.send_text(USER, "/subscribe", chat_id=ADMIN_CHAT, anonymous=True)["message"]
    assert message["from"] == GROUP_ANONYMOUS_BOT and message["from"]["id"] == 1087968824
    assert message["sender_chat"]["id"] == ADMIN_CHAT and message["sender_chat"]["type"] == "supergroup"
    assert message["entities"][0]["type"] == "bot_command"
    with pytest.raises(ValueError, match="in the group"):
        emulator.send_text(USER, "/subscribe", anonymous=True)
