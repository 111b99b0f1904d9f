"""Report notices and announcements go through the outbox: an outage, a stop or a crash midway loses none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.emulator import BotAPIEmulator
from bot.services import open_services
from storage import (
    AnnouncementStatus,
    OutboxKind,
    enqueue,
    get_announcement,
    list_announcements,
    set_announcement_status,
    update_announcement,
)
from tests.bot.botenv import ADMIN, TOKEN, USER, make_settings, running

pytestmark = pytest.mark.asyncio

SECOND_ADMIN = 9002


async def _started(url: str, emulator: BotAPIEmulator) -> None:
    async with open_services(make_settings(url, emulator)) as services:
        await services.ingest(services.sources[0])


def _notices(emulator: BotAPIEmulator, admin: int, ticket: int) -> list[str]:
    return [s.text or "" for s in emulator.messages_to(admin) if f"新举报 #{ticket}" in (s.text or "")]


async def test_a_report_filed_during_an_outage_reaches_every_admin_once_after_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        settings = make_settings(url, emulator, admins=(ADMIN, SECOND_ADMIN))
        async with running(settings, emulator) as env:
            for admin in (ADMIN, SECOND_ADMIN):
                emulator.fail("sendMessage", status=502, chat_id=admin, lasting=3)
            ack = await env.ask("/report 河道被倾倒垃圾")
            assert "#1" in (ack.text or "")  # acknowledged while no admin can be reached
            await asyncio.sleep(0.5)
            assert not _notices(emulator, ADMIN, 1) and not _notices(emulator, SECOND_ADMIN, 1)
            for admin in (ADMIN, SECOND_ADMIN):
                await emulator.wait_for(lambda s, a=admin: s.chat_id == a and "新举报 #1" in (s.text or ""), timeout=30)
            await asyncio.sleep(0.5)
        assert [len(_notices(emulator, a, 1)) for a in (ADMIN, SECOND_ADMIN)] == [1, 1]
        assert "河道被倾倒垃圾" in _notices(emulator, ADMIN, 1)[0]


async def test_a_report_acknowledged_before_a_stop_is_sent_after_the_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        settings = make_settings(url, emulator)
        emulator.fail("sendMessage", status=502, chat_id=ADMIN, lasting=3)
        async with running(settings, emulator) as env:
            assert "#1" in ((await env.ask("/report 路灯不亮")).text or "")
        assert not _notices(emulator, ADMIN, 1)
        await asyncio.sleep(3)  # the outage ends while the bot is down
        async with running(settings, emulator):
            await emulator.wait_for(lambda s: s.chat_id == ADMIN and "新举报 #1" in (s.text or ""), timeout=20)
            await asyncio.sleep(0.5)
        assert len(_notices(emulator, ADMIN, 1)) == 1


async def test_a_report_filed_with_no_admin_is_sent_once_admins_are_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        async with running(make_settings(url, emulator, admins=()), emulator) as env:
            assert "#1" in ((await env.ask("/report 无人接收的举报")).text or "")
        async with running(make_settings(url, emulator), emulator):
            await emulator.wait_for(lambda s: s.chat_id == ADMIN and "新举报 #1" in (s.text or ""), timeout=20)


async def test_an_admins_reply_to_a_notice_reaches_the_reporter_and_marks_the_report_answered(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        async with running(make_settings(url, emulator, admins=(ADMIN, SECOND_ADMIN)), emulator) as env:
            await env.ask("/report 路口红绿灯坏了")
            await env.ask("/report 小区垃圾无人清运", user=5001)
            notices = {}
            for ticket in (1, 2):
                notices[ticket] = await emulator.wait_for(
                    lambda s, n=ticket: s.chat_id == SECOND_ADMIN and f"新举报 #{n}" in (s.text or ""), timeout=20
                )
            await asyncio.sleep(0.5)  # the sender records the notices' message ids within 0.2 s of sending
            # The second admin answers #2 by replying to its notice in their own chat.
            ack = await env.ask("已通知物业，<b>明天</b>清运", user=SECOND_ADMIN, reply_to=notices[2])
            assert "已答复举报 #2" in (ack.text or "")
            got = await emulator.wait_for(lambda s: s.chat_id == 5001 and "管理员回复" in (s.text or ""), timeout=20)
            assert "管理员回复了你的举报 #2" in (got.text or "")
            assert "已通知物业，&lt;b&gt;明天&lt;/b&gt;清运" in (got.text or "")  # typed tags are text
            # A reply to another of the bot's messages, or from a non-admin, is free text as before.
            hint = await env.ask("这是什么？", user=SECOND_ADMIN, reply_to=ack)
            assert "/summary" in (hint.text or "")
            listing = await env.ask("/reports", user=ADMIN)
            await asyncio.sleep(0.5)
        entries = (listing.text or "").split("\n\n")
        assert "待回复 1，已回复 1" in entries[0]
        answered = next(e for e in entries if e.startswith("<b>#2</b>"))
        opened = next(e for e in entries if e.startswith("<b>#1</b>"))
        assert "已回复" in answered and "↳ 已通知物业" in answered
        assert "待回复" in opened and "↳" not in opened
        # The answer reached the reporter once, and nobody else.
        assert len([s for s in emulator.messages_to(5001) if "管理员回复" in (s.text or "")]) == 1
        assert not [s for s in emulator.messages_to(USER) if "管理员回复" in (s.text or "")]


async def test_an_announcement_cut_short_midway_is_finished_once_per_subscriber_after_a_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    subscribers = [USER, 5001, 5002]
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        settings = make_settings(url, emulator)
        async with running(settings, emulator) as env:
            for chat in subscribers:
                await env.ask("/subscribe", user=chat)
            preview = await env.ask("/announce 停水通知", user=ADMIN)
        # What a crash between two pages of the enqueue leaves: sending, one subscriber's row in.
        async with open_services(settings) as services, services.sessions.begin() as session:
            (draft,) = await list_announcements(session=session, status=AnnouncementStatus.DRAFT)
            await set_announcement_status(session=session, announcement_id=draft.id, status=AnnouncementStatus.SENDING)
            await update_announcement(
                session=session,
                announcement_id=draft.id,
                preview_chat_id=preview.chat_id,
                preview_message_id=preview.message_id,
            )
            payload = {"parts": [{"text": "📢 <b>公告</b>\n\n停水通知"}]}
            await enqueue(
                session=session, kind=OutboxKind.ANNOUNCEMENT, key=str(draft.id), chat_ids=[USER], payload=payload
            )
        async with running(settings, emulator):
            await emulator.wait_for(
                lambda s: s.message_id == preview.message_id and "公告发送完毕" in (s.text or ""), timeout=20
            )
        shown = emulator.message(preview.chat_id, preview.message_id)
        assert shown is not None and "已发送 3" in shown["text"]
        for chat in subscribers:
            assert len([s for s in emulator.messages_to(chat) if "停水通知" in (s.text or "")]) == 1, chat
        async with open_services(settings) as services, services.sessions() as session:
            done = await get_announcement(session=session, announcement_id=draft.id)
        assert done is not None and done.status is AnnouncementStatus.DONE


async def test_progress_of_an_announcement_delivered_before_a_stop_is_finished_after_the_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    async with BotAPIEmulator(token=TOKEN) as emulator:
        await _started(url, emulator)
        settings = make_settings(url, emulator)
        async with running(settings, emulator) as env:
            await env.ask("/subscribe", user=USER)
            preview = await env.ask("/announce 已送达的公告", user=ADMIN)
            assert preview.reply_markup is not None
            (send,) = [
                b["callback_data"]
                for row in preview.reply_markup["inline_keyboard"]
                for b in row
                if b["text"] == "发送"
            ]
            # The progress message cannot be edited until after the stop: delivered, never shown done.
            emulator.fail("editMessageText", status=502, chat_id=ADMIN, lasting=3)
            emulator.press(ADMIN, preview, send)
            await emulator.wait_for(lambda s: s.chat_id == USER and "已送达的公告" in (s.text or ""), timeout=20)
        async with open_services(settings) as services, services.sessions() as session:
            (announcement,) = await list_announcements(session=session, limit=1)
        assert announcement.status is AnnouncementStatus.QUEUED
        await asyncio.sleep(3)
        async with running(settings, emulator):
            await emulator.wait_for(
                lambda s: s.message_id == preview.message_id and "公告发送完毕" in (s.text or ""), timeout=20
            )
        async with open_services(settings) as services, services.sessions() as session:
            done = await get_announcement(session=session, announcement_id=announcement.id)
        assert done is not None and done.status is AnnouncementStatus.DONE
