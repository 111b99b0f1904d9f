"""In groups only the chat's administrators (and anonymous admins) change the subscription."""

from __future__ import annotations

from datetime import time

import pytest

from bot.callbacks import Action, encode
from storage import Subscriber, get_subscriber, list_filters, make_engine, make_sessionmaker
from tests.bot.botenv import USER, BotEnv

pytestmark = pytest.mark.asyncio

GROUP = -4001  # a basic group
SUPERGROUP = -(10**12) - 4001
OWNER = 5001
REFUSED = "群组的订阅只能由群管理员设置。"


async def stored(env: BotEnv, chat_id: int) -> tuple[Subscriber | None, list[str]]:
    """Return the chat's subscriber row and its filter keywords, read from the database."""
    engine = make_engine(env.settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            subscriber = await get_subscriber(session=session, chat_id=chat_id)
            filters = await list_filters(session=session, subscriber_id=subscriber.id) if subscriber else []
    finally:
        await engine.dispose()
    return subscriber, [f.keyword for f in filters]


async def test_a_member_is_refused_for_commands_and_buttons_and_nothing_changes(bot_env: BotEnv) -> None:
    bot_env.emulator.set_member(GROUP, OWNER, "creator")
    done = await bot_env.ask("/subscribe 07:30", user=OWNER, chat=GROUP)
    assert "已订阅" in (done.text or "")
    settings = await bot_env.ask("/settings", user=OWNER, chat=GROUP)
    before = await stored(bot_env, GROUP)

    for command in ("/subscribe 09:00", "/unsubscribe", "/settings", "/filter 流域"):
        reply = await bot_env.ask(command, user=USER, chat=GROUP)
        assert reply.text == REFUSED, command
    alert = await bot_env.press(settings, encode(Action.DIGEST_SIZE, 20), method="answerCallbackQuery")
    assert alert.text == REFUSED and alert.params.get("show_alert") in (True, "true")
    # The /start button subscribes too: refused as well.
    welcome = await bot_env.ask("/start", user=USER, chat=GROUP)
    alert = await bot_env.press(welcome, encode(Action.SUBSCRIBE), method="answerCallbackQuery")
    assert alert.text == REFUSED

    (row, keywords), (was, _) = await stored(bot_env, GROUP), before
    assert row is not None and was is not None and keywords == []
    assert (row.active, row.digest_time, row.digest_size, row.updated_at) == (
        True,
        time(7, 30),
        was.digest_size,
        was.updated_at,
    )
    assert bot_env.emulator.message(GROUP, settings.message_id) is not None
    assert all(r.method != "editMessageText" for r in bot_env.emulator.sent)


async def test_an_admin_subscribes_and_uses_the_buttons_asked_once_while_kept(bot_env: BotEnv) -> None:
    bot_env.emulator.set_member(SUPERGROUP, USER, "administrator")
    done = await bot_env.ask("/subscribe", user=USER, chat=SUPERGROUP)
    assert "已订阅" in (done.text or "")
    settings = await bot_env.ask("/settings", user=USER, chat=SUPERGROUP)
    edited = await bot_env.press(settings, encode(Action.DIGEST_SIZE, 20))
    assert "每次篇数：20" in (edited.text or "")
    subscriber, _ = await stored(bot_env, SUPERGROUP)
    assert subscriber is not None and subscriber.digest_size == 20 and subscriber.user_id == USER
    # Three actions of one admin in one chat, one getChatMember: the answer is kept for a while.
    asked = [r for r in bot_env.emulator.http_log if r.method == "getChatMember"]
    assert len(asked) == 1 and asked[0].params["user_id"] == str(USER)


async def test_an_anonymous_admin_posting_as_the_group_succeeds(bot_env: BotEnv) -> None:
    # USER is a plain member by getChatMember: posting as the group is what only an admin can do.
    done = await bot_env.ask("/subscribe 06:45", user=USER, chat=SUPERGROUP, anonymous=True)
    assert "已订阅" in (done.text or "") and "06:45" in (done.text or "")
    added = await bot_env.ask("/filter 流域", user=USER, chat=SUPERGROUP, anonymous=True)
    assert "已添加过滤" in (added.text or "")
    subscriber, keywords = await stored(bot_env, SUPERGROUP)
    assert subscriber is not None and subscriber.user_id is None  # Telegram does not say who
    assert keywords == ["流域"]
    assert not any(r.method == "getChatMember" for r in bot_env.emulator.http_log)
    # The same user speaking as themselves is a member, refused.
    refused = await bot_env.ask("/unsubscribe", user=USER, chat=SUPERGROUP)
    assert refused.text == REFUSED


async def test_private_chats_ask_nobody(bot_env: BotEnv) -> None:
    done = await bot_env.ask("/subscribe")
    assert "已订阅" in (done.text or "")
    assert not any(r.method == "getChatMember" for r in bot_env.emulator.http_log)
