"""Report notices to the admins: outbox rows, one per admin, in the transaction that files the report;
an admin's answer to the reporter: an outbox row in the transaction that marks the report answered.

A report is acknowledged only after it and its notices committed together, so a notice survives
a Telegram outage (the sender retries it) and a crash after the acknowledgement (the next start
sends it). `Report.forwarded` says the notices were enqueued: a report filed while no admin was
configured is enqueued when the bot next starts with admins.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.render import esc_user
from bot.texts import t
from storage import OutboxKind, Report, answer_report, enqueue, mark_report_forwarded, reports_to_forward

__all__ = ["enqueue_report_answer", "enqueue_report_notice", "forward_waiting_reports", "report_notice"]

_PAGE = 100  # waiting reports enqueued per transaction


def report_notice(report: Report) -> str:
    """Return the admins' notice of a report: the text and who filed it (for the admins only)."""
    who = esc_user(report.name or "?") + (f" (@{esc_user(report.username)})" if report.username else "")
    who += f" <code>{report.user_id if report.user_id is not None else '?'}</code>"
    return t("zh", "report_admin", ticket=report.id, who=who, text=esc_user(report.text))


async def enqueue_report_notice(session: AsyncSession, *, report: Report, admins: Collection[int]) -> int:
    """Enqueue the report's notice for every admin in the caller's transaction; return the rows added."""
    if not admins:
        return 0  # kept unforwarded until admins are configured
    added = await enqueue(
        session=session,
        kind=OutboxKind.REPORT,
        key=str(report.id),
        chat_ids=sorted(admins),
        payload={"parts": [{"text": report_notice(report)}]},
    )
    await mark_report_forwarded(session=session, report_id=report.id)
    return added


async def forward_waiting_reports(sessions: async_sessionmaker[AsyncSession], admins: Collection[int]) -> int:
    """Enqueue the notices of reports filed while no admin was configured; return the rows added."""
    added = 0
    while admins:
        async with sessions.begin() as session:
            waiting = await reports_to_forward(session=session, limit=_PAGE)
            for report in waiting:
                added += await enqueue_report_notice(session, report=report, admins=admins)
        if len(waiting) < _PAGE:
            break
    return added


async def enqueue_report_answer(
    session: AsyncSession, *, report: Report, answer: str, admin: int, reply_id: int
) -> bool:
    """Enqueue an admin's answer for the reporter's chat and mark the report answered, in the caller's
    transaction; return whether it was new (`reply_id`, the admin's reply, makes a redelivered update one answer)."""
    text = t("zh", "report_answer", ticket=report.id, answer=esc_user(answer))
    added = await enqueue(
        session=session,
        kind=OutboxKind.REPORT_ANSWER,
        key=f"{report.id}:{admin}:{reply_id}",
        chat_ids=[report.chat_id],
        payload={"parts": [{"text": text}]},
    )
    await answer_report(session=session, report_id=report.id, answer=answer, answered_by=admin)
    return added > 0
