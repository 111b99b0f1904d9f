"""Everything that must reach a chat: the outbox sender, digests and channel posts, announcements
(resumable enqueue, progress), report notices to admins and their answers. Each message is an outbox row first."""

from bot.delivery._announcements import ENQUEUE_PAGE, AnnouncementFollower, announcement_payload
from bot.delivery._digests import digest_items, enqueue_channel_posts, enqueue_due_digests
from bot.delivery._outbox import OUTAGE_CHATS, OutboxSender, Verdict, classify
from bot.delivery._reports import enqueue_report_answer, enqueue_report_notice, forward_waiting_reports, report_notice

__all__ = [
    "ENQUEUE_PAGE",
    "OUTAGE_CHATS",
    "AnnouncementFollower",
    "OutboxSender",
    "Verdict",
    "announcement_payload",
    "classify",
    "digest_items",
    "enqueue_channel_posts",
    "enqueue_due_digests",
    "enqueue_report_answer",
    "enqueue_report_notice",
    "forward_waiting_reports",
    "report_notice",
]
