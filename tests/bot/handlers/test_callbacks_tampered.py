"""Buttons pressed with tampered data, after their article was deleted, twice, by the wrong user, or
on a message deleted meanwhile; commands edited or replying to messages that changed.

Every press is answered once (answerCallbackQuery) with a short text or followed by a clear message;
nothing gets the apology of a failed handler, nothing is logged at ERROR, and Telegram (the
emulator) refuses none of the bot's sends and edits but the edits of a message that is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from telegram import Bot
from telegram.error import BadRequest

from bot.callbacks import Action, encode
from bot.emulator import BotAPIEmulator, Sent
from bot.services import open_services
from bot.texts import t
from tests.bot.botenv import ADMIN, USER, BotEnv, running_bot

pytestmark = pytest.mark.asyncio

SORRY = t("zh", "sorry")
STALE = t("zh", "stale_button")


def buttons(sent: Sent) -> dict[str, str]:
    """Return the callback buttons of a message: caption → data."""
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


async def answer_to(env: BotEnv, act: Callable[[], object], chat: int, *, records: int = 1) -> list[Sent]:
    """Do `act` (a press) and return what the bot did in `chat`: the answer and the `records` - 1
    other records expected, then anything more that comes shortly after."""
    with env.emulator.watch() as queue:
        act()
        done: list[Sent] = []
        async with asyncio.timeout(5):
            while len(done) < records or not any(r.method == "answerCallbackQuery" for r in done):
                if (record := await queue.get()).chat_id == chat:
                    done.append(record)
        await asyncio.sleep(0.15)
        while not queue.empty():
            if (record := queue.get_nowait()).chat_id == chat:
                done.append(record)
    return done


async def delete_article(env: BotEnv, article_id: int) -> None:
    """Delete an article (its summary goes with it), as an operator cleaning the database would."""
    async with open_services(env.settings) as services, services.sessions.begin() as session:
        await session.execute(text("DELETE FROM articles WHERE id = :id"), {"id": article_id})


def refused(env: BotEnv) -> list[str]:
    """Return the sends, edits and answers Telegram refused."""
    return [
        f"{r.method} {r.status}"
        for r in env.emulator.http_log
        if r.method in {"sendMessage", "editMessageText", "answerCallbackQuery"} and r.status != 200
    ]


def no_apology(env: BotEnv) -> None:
    assert not [s.text for s in env.emulator.sent if s.text == SORRY]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_tampered_data_is_answered_as_expired(bot_env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    listing = await bot_env.ask("/latest")
    tampered = [
        "",
        ":",
        "\x00\x01\xff\xfe",
        bytes(range(256)).decode("latin-1"),  # random bytes, and far over 64
        "s:" + "1" * 70,  # too long
        "s:abc",
        "s:-1",
        "s:1:2",
        "s:１",  # a full-width digit
        "f:1",
        "f:1:-1",  # a negative page
        "zz:1",
        "s:" + "9" * 17,  # over the codec's range
        "x:notanumber",
        "<b>s:1</b>",
        "👨\u200d👩\u200d👧:1",
    ]
    for data in tampered:
        done = await answer_to(bot_env, lambda d=data: bot_env.emulator.press(USER, listing, d, forged=True), USER)
        (answer,) = [r for r in done if r.method == "answerCallbackQuery"]
        assert answer.text == STALE, data
        assert [r.method for r in done] == ["answerCallbackQuery"], data  # nothing else: no edit, no message
    no_apology(bot_env)
    assert not refused(bot_env)
    assert not errors(caplog)


@pytest_asyncio.fixture
async def uncached_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    """A bot that keeps no replies, so an article deleted by another connection is gone at once
    (with them kept, it goes when they expire: tests/bot/handlers/test_reply_cache.py)."""
    async with running_bot(f"sqlite:///{tmp_path / 'bot.db'}", reply_cache=0) as env:
        yield env


async def test_buttons_of_deleted_and_missing_articles(uncached_env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    bot_env = uncached_env
    summary = await bot_env.ask("/summary")
    article = int(buttons(summary)["全文"].split(":")[1])
    page = await bot_env.ask(f"/full {article}")
    listing = await bot_env.ask("/latest")
    await delete_article(bot_env, article)
    for message, data in (
        (summary, encode(Action.FULL, article, 0)),  # [全文]
        (summary, encode(Action.CONTACTS, article)),  # [举报方式]
        (summary, encode(Action.DIRECTIVES, article, 1)),  # [展开 … 项部署要求]
        (page, encode(Action.FULL, article, 1)),  # a page of the deleted article
        (listing, encode(Action.FULL, 2**53 - 1, 0)),  # an id that never existed, at the codec's bound
    ):
        done = await answer_to(bot_env, lambda m=message, d=data: bot_env.emulator.press(USER, m, d, forged=True), USER)
        assert [r.method for r in done] == ["answerCallbackQuery"], data
        assert "找不到编号为" in (done[0].text or ""), data
    # [摘要] of the deleted article: the press is answered and a message says it is gone.
    done = await answer_to(
        bot_env,
        lambda: bot_env.emulator.press(USER, listing, encode(Action.SUMMARY, article), forged=True),
        USER,
        records=2,
    )
    assert [r.method for r in done] == ["answerCallbackQuery", "sendMessage"]
    assert f"找不到编号为 {article} 的文章" in (done[1].text or "")
    # More results far past the end, and [更多] of a search this database never made.
    far = await bot_env.press(listing, encode(Action.LATEST, 2**53 - 1), method="sendMessage", forged=True)
    assert far.text == t("zh", "no_articles")
    done = await answer_to(
        bot_env, lambda: bot_env.emulator.press(USER, listing, encode(Action.SEARCH, 2**53 - 1, 10), forged=True), USER
    )
    assert [(r.method, r.text) for r in done] == [("answerCallbackQuery", STALE)]
    no_apology(bot_env)
    assert not refused(bot_env)
    assert not errors(caplog)


async def test_pages_out_of_range_double_taps_and_deleted_messages(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    summary = await bot_env.ask("/summary")
    article = int(buttons(summary)["全文"].split(":")[1])
    first = await bot_env.ask(f"/full {article}")
    # Page 999 of a short article shows its last page: here the one already shown, so nothing changes.
    done = await answer_to(
        bot_env, lambda: bot_env.emulator.press(USER, first, encode(Action.FULL, article, 999), forged=True), USER
    )
    assert [r.method for r in done] == ["answerCallbackQuery"] and done[0].text is None
    # Two taps on [全文] before the bot handles either: both answered, the second edit changes nothing.
    data = buttons(summary)["全文"]

    def edits() -> int:
        return sum(r.method == "editMessageText" for r in bot_env.emulator.http_log)

    edits_before = edits()
    with bot_env.emulator.watch() as queue:
        bot_env.emulator.press(USER, summary, data)
        bot_env.emulator.press(USER, summary, data)
        answers = 0
        async with asyncio.timeout(5):
            while answers < 2:
                answers += (await queue.get()).method == "answerCallbackQuery"
    async with asyncio.timeout(5):  # each tap's edit, done or refused, before the next press
        while edits() < edits_before + 2:
            await asyncio.sleep(0.02)
    # A press, then the user deletes the message before the bot edits it: the page comes anew.
    done = await answer_to(
        bot_env,
        lambda: (
            bot_env.emulator.press(USER, first, encode(Action.FULL, article, 0), forged=True),
            bot_env.emulator.delete(USER, first.message_id),
        ),
        USER,
        records=2,
    )
    assert [r.method for r in done] == ["answerCallbackQuery", "sendMessage"]
    assert done[1].text == first.text
    no_apology(bot_env)

    def refused_edits() -> int:
        return sum(r.method == "editMessageText" and r.status == 400 for r in bot_env.emulator.http_log)

    # Not modified (page 999, the second tap) and not found (deleted).
    async with asyncio.timeout(5):
        while refused_edits() < 3:
            await asyncio.sleep(0.02)
    assert refused_edits() == 3
    assert [r for r in refused(bot_env) if not r.startswith("editMessageText")] == []
    assert not errors(caplog)


async def test_settings_buttons_tampered_or_repeated(bot_env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    other = USER + 1
    not_yet = await bot_env.ask("/start", user=other)
    done = await answer_to(
        bot_env, lambda: bot_env.emulator.press(other, not_yet, encode(Action.TOGGLE_SOURCE, 1), forged=True), other
    )
    assert [(r.method, r.text) for r in done] == [("answerCallbackQuery", t("zh", "not_subscribed"))]
    await bot_env.ask("/subscribe")
    settings = await bot_env.ask("/settings")
    listing = await bot_env.ask("/sources")
    toggles = {caption.strip("✓＋ "): data for caption, data in buttons(listing).items()}
    for data, answer in (
        (encode(Action.TOGGLE_SOURCE, 999), STALE),  # no such source
        (encode(Action.DIGEST_SIZE, 7), STALE),  # not a size offered
        (encode(Action.DIGEST_SIZE, 10), None),  # the size already set: answered, nothing to edit
    ):
        done = await answer_to(bot_env, lambda d=data: bot_env.emulator.press(USER, settings, d, forged=True), USER)
        assert [(r.method, r.text) for r in done][:1] == [("answerCallbackQuery", answer)], data
    # Drop one source, then try to drop the last one followed.
    edited = await bot_env.press(listing, toggles["示例"])
    done = await answer_to(bot_env, lambda: bot_env.emulator.press(USER, edited, toggles["清河新闻网"]), USER)
    assert [(r.method, r.text) for r in done] == [("answerCallbackQuery", t("zh", "keep_one_source"))]
    still = await bot_env.ask("/sources")
    assert "✓ 清河新闻网" in buttons(still) and "＋ 示例" in buttons(still)
    no_apology(bot_env)
    assert [r for r in refused(bot_env) if not r.startswith("editMessageText")] == []
    assert not errors(caplog)


async def test_announcement_buttons_forged_repeated_and_spent(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    for chat in (USER, 5001):
        await bot_env.ask("/subscribe", user=chat)
    preview = await bot_env.ask("/announce 停水通知 <i>明天</i>", user=ADMIN)
    send, cancel = buttons(preview)["发送"], buttons(preview)["取消"]
    # A non-admin forging the admin's buttons, or a made-up announcement id, is refused.
    for data in (send, cancel, encode(Action.ANNOUNCE, 424242)):
        refusal = await bot_env.press(preview, data, user=USER, method="answerCallbackQuery", forged=True)
        assert refusal.text == t("zh", "admins_only")
    missing = await bot_env.press(
        preview, encode(Action.ANNOUNCE, 424242), user=ADMIN, method="answerCallbackQuery", forged=True
    )
    assert missing.text == STALE
    # Two taps on [发送]: one announcement per subscriber, the second tap told the button is spent.
    with bot_env.emulator.watch() as queue:
        bot_env.emulator.press(ADMIN, preview, send)
        bot_env.emulator.press(ADMIN, preview, send)
        answers: list[str | None] = []
        async with asyncio.timeout(5):
            while len(answers) < 2:
                if (record := await queue.get()).method == "answerCallbackQuery":
                    answers.append(record.text)
    assert sorted(answers, key=str) == [None, STALE] or answers == [None, None]
    await bot_env.emulator.wait_for(lambda s: s.chat_id == ADMIN and "公告发送完毕" in (s.text or ""), timeout=20)
    for chat in (USER, 5001):
        assert len([s for s in bot_env.emulator.messages_to(chat) if "停水通知" in (s.text or "")]) == 1
    # [取消] after sending, and [发送] once more: spent.
    for data in (cancel, send):
        spent = await bot_env.press(preview, data, user=ADMIN, method="answerCallbackQuery", forged=True)
        assert spent.text == STALE
    # Cancelled first, then [发送]: nothing goes out.
    second = await bot_env.ask("/announce 第二条", user=ADMIN)
    cancelled = await bot_env.press(second, buttons(second)["取消"], user=ADMIN)
    assert cancelled.text == t("zh", "cancelled")
    late = await bot_env.press(second, buttons(second)["发送"], user=ADMIN, method="answerCallbackQuery", forged=True)
    assert late.text == STALE
    await asyncio.sleep(0.3)
    assert not [s for s in bot_env.emulator.sent if "第二条" in (s.text or "") and s.chat_id != ADMIN]
    no_apology(bot_env)
    assert not refused(bot_env)
    assert not errors(caplog)


async def test_edited_and_replied_messages_mid_flow(bot_env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    free_text = t("zh", "free_text")
    original = bot_env.emulator.send_text(USER, "可疑链接 <b>http://x</b>")["message"]
    await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and s.text == free_text)
    # /report replying to a message the user then edits and deletes: the text as replied to is filed.
    with bot_env.emulator.watch() as queue:
        command = bot_env.emulator.send_text(USER, "/report", reply_to=original["message_id"])["message"]
        bot_env.emulator.edit_text(USER, original["message_id"], "改过的内容")
        bot_env.emulator.delete(USER, original["message_id"])
        async with asyncio.timeout(5):
            while (forward := await queue.get()).chat_id != ADMIN:
                pass
    assert "可疑链接 &lt;b&gt;http://x&lt;/b&gt;" in (forward.text or "") and "改过的内容" not in (forward.text or "")
    # Editing the /report command afterwards files nothing more: the user is told edits are not run.
    bot_env.emulator.edit_text(USER, command["message_id"], "/report 又一条")
    await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and s.text == t("zh", "edited"))
    reports = await bot_env.ask("/reports", user=ADMIN)
    assert "#1" in (reports.text or "") and "#2" not in (reports.text or "") and "又一条" not in (reports.text or "")
    # An admin announcing by replying to a message: the text is shown as typed, tags escaped.
    quoted = bot_env.emulator.send_text(ADMIN, "</pre> & <script>")["message"]
    await bot_env.emulator.wait_for(lambda s: s.chat_id == ADMIN and s.text == free_text)
    with bot_env.emulator.watch() as queue:
        bot_env.emulator.send_text(ADMIN, "/announce", reply_to=quoted["message_id"])
        async with asyncio.timeout(5):
            while (preview := await queue.get()).chat_id != ADMIN or "公告预览" not in (preview.text or ""):
                pass
    assert "&lt;/pre&gt; &amp; &lt;script&gt;" in (preview.text or "")
    # The text on the line after the command is not lost.
    below = await bot_env.ask("/announce\n第一行\n第二行", user=ADMIN)
    assert "第一行\n第二行" in (below.text or "")
    no_apology(bot_env)
    assert not refused(bot_env)
    assert not errors(caplog)


async def test_a_failing_handler_apologises_without_details(bot_env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    summary = await bot_env.ask("/summary")
    bot_env.emulator.fail("editMessageText", status=400, description="Bad Request: secret internal detail")
    with bot_env.emulator.watch() as queue:
        bot_env.emulator.press(USER, summary, buttons(summary)["全文"])
        async with asyncio.timeout(5):
            while (apology := await queue.get()).method != "sendMessage":
                pass
    assert apology.text == SORRY
    assert not [s for s in bot_env.emulator.sent if "secret" in (s.text or "")]
    # The failure is what the ERROR log is for, with its traceback.
    (logged,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.exc_info is not None


async def test_emulator_forged_presses_deletions_and_long_answers(bot: Bot, emulator: BotAPIEmulator) -> None:
    """What the tests above rely on: any data can be pressed, users delete messages, and Telegram
    refuses a notification over 200 characters."""
    sent = await bot.send_message(USER, "没有按钮")
    with pytest.raises(ValueError, match="no button"):
        emulator.press(USER, sent.message_id, "s:1")
    query = emulator.press(USER, sent.message_id, "s:1", forged=True)["callback_query"]
    assert query["data"] == "s:1" and query["message"]["message_id"] == sent.message_id
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(query["id"], text="长" * 201)
    assert await bot.answer_callback_query(query["id"], text="长" * 200)
    emulator.delete(USER, sent.message_id)
    assert emulator.message(USER, sent.message_id) is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("改", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(ValueError, match="no message"):
        emulator.delete(USER, sent.message_id)
