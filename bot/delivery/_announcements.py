"""Announcements after the admin pressed send: enqueue them, follow them, finish them.

The button only moves an announcement from draft to sending and remembers the preview message.
From there this loop owns it, in whichever bot process runs it (each does): an announcement
`sending` gets an outbox row for every active subscriber, a page per transaction, and becomes
`queued` in the transaction of the last page. A crash at any point leaves it `sending`, and the
next pass enqueues again; the outbox's unique (kind, key, chat) makes that exactly once per
subscriber. The preview message shows the outbox's tally while rows are pending, and the final
tally once none is, whenever that is noticed: after a restart too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.script import to_script
from bot.texts import HANS, SCRIPTS, t
from storage import (
    Announcement,
    AnnouncementStatus,
    OutboxKind,
    OutboxStatus,
    active_subscriber_ids,
    enqueue,
    get_announcement,
    list_announcements,
    outbox_tally,
    set_announcement_status,
)

__all__ = ["ENQUEUE_PAGE", "AnnouncementFollower", "announcement_payload"]

logger = logging.getLogger(__name__)

ENQUEUE_PAGE = 5000  # subscribers enqueued per transaction
_EVERY = 2.0  # seconds between passes: the progress message is edited at most this often


def announcement_payload(announcement: Announcement, script: str = HANS) -> dict[str, list[dict[str, str]]]:
    """Return the outbox payload of an announcement, as every subscriber reading `script` gets it."""
    return {"parts": [{"text": to_script(t("zh", "announcement", text=announcement.text), script)}]}


class AnnouncementFollower:
    """Enqueue announcements being sent and keep their progress messages up to date."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        *,
        enqueued: Callable[[], None] = lambda: None,
        every: float = _EVERY,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.enqueued = enqueued  # told after rows were added: the sender has work
        self.every = every
        self._shown: dict[int, str] = {}  # announcement id -> text its progress message shows
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Run a pass now (an admin pressed send) rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        """Leave `run` after the pass under way."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Pass over the announcements under way every few seconds until stopped."""
        while not self._stopping:
            self._wake.clear()
            try:
                await self.pass_once()
            except Exception:  # the database may be down: the next pass tries again
                logger.exception("following announcements failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)

    async def pass_once(self) -> None:
        """Enqueue what is `sending`, then show the progress of everything under way."""
        async with self.sessions() as session:
            sending = await list_announcements(session=session, status=AnnouncementStatus.SENDING)
        for announcement in sending:
            await self._enqueue(announcement)
        async with self.sessions() as session:
            queued = await list_announcements(session=session, status=AnnouncementStatus.QUEUED)
        for announcement in [*sending, *queued]:
            await self._follow(announcement)

    async def _enqueue(self, announcement: Announcement) -> None:
        """Give every active subscriber a row in the script it reads, a page per transaction, then
        mark it queued (with the last page of the last script)."""
        for script in SCRIPTS:
            await self._enqueue_script(announcement, script, last=script == SCRIPTS[-1])

    async def _enqueue_script(self, announcement: Announcement, script: str, *, last: bool) -> None:
        payload = announcement_payload(announcement, script)
        after: int | None = None  # chat ids of groups and channels are negative: start below them all
        while True:
            async with self.sessions.begin() as session:
                chat_ids = await active_subscriber_ids(
                    session=session, after_chat_id=after, limit=ENQUEUE_PAGE, script=script
                )
                added = 0
                if chat_ids:
                    added = await enqueue(
                        session=session,
                        kind=OutboxKind.ANNOUNCEMENT,
                        key=str(announcement.id),
                        chat_ids=chat_ids,
                        payload=payload,
                    )
                if last and len(chat_ids) < ENQUEUE_PAGE:
                    await set_announcement_status(
                        session=session,
                        announcement_id=announcement.id,
                        status=AnnouncementStatus.QUEUED,
                        expected=AnnouncementStatus.SENDING,
                    )
            if added:
                self.enqueued()
            if len(chat_ids) < ENQUEUE_PAGE:
                return
            after = chat_ids[-1]

    async def _follow(self, announcement: Announcement) -> None:
        """Edit the progress message to the outbox's tally; finish the announcement when nothing is pending."""
        async with self.sessions() as session:
            tally = await outbox_tally(session=session, kind=OutboxKind.ANNOUNCEMENT, key=str(announcement.id))
            current = await get_announcement(session=session, announcement_id=announcement.id)
        queued = current is not None and current.status is AnnouncementStatus.QUEUED
        pending = tally.get(OutboxStatus.PENDING, 0) + tally.get(OutboxStatus.SENDING, 0)
        done = queued and pending == 0
        counts = {k: tally.get(OutboxStatus(k), 0) for k in ("sent", "blocked", "failed")}
        text = t("zh", "announce_done" if done else "announce_progress", pending=pending, **counts)
        if not await self._show(announcement, text):
            return  # the final tally is shown before the announcement is done
        if done:
            async with self.sessions.begin() as session:
                await set_announcement_status(
                    session=session,
                    announcement_id=announcement.id,
                    status=AnnouncementStatus.DONE,
                    expected=AnnouncementStatus.QUEUED,
                )
            self._shown.pop(announcement.id, None)

    async def _show(self, announcement: Announcement, text: str) -> bool:
        """Edit the progress message to `text`; return False when Telegram could not be reached."""
        chat_id, message_id = announcement.preview_chat_id, announcement.preview_message_id
        if chat_id is None or message_id is None or self._shown.get(announcement.id) == text:
            return True
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML)
        except BadRequest as error:
            # Shown already (another process edited it), or deleted: not tried again either way.
            if "not modified" not in error.message.lower():
                logger.info("progress of announcement %s not shown: %s", announcement.id, error)
        except TelegramError:  # a stalled or rate-limited edit: the next pass catches up
            logger.debug("progress edit failed", exc_info=True)
            return False
        self._shown[announcement.id] = text
        return True
