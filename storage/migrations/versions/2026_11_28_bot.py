"""Telegram bot: subscribers and their filters, the delivery outbox, announcements, reports, channels.

Revision ID: 20261128_bot
Revises: 20261128_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_bot"
down_revision: str | None = "20261128_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the delivery tables, and index articles by when they were stored (digests read by it)."""
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, comment="Telegram chat id"),
        sa.Column("user_id", sa.BigInteger(), nullable=True, comment="Telegram user who subscribed it, if known"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="private, group, supergroup or channel"),
        sa.Column("language", sa.String(length=16), nullable=False, comment="Language of its messages: zh, en …"),
        sa.Column("active", sa.Boolean(), nullable=False, comment="False after /stop or a Forbidden (see blocked_at)"),
        sa.Column(
            "blocked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When Telegram said Forbidden (blocked, kicked, deactivated); NULL otherwise",
        ),
        sa.Column("digest_time", sa.Time(), nullable=False, comment="Local time of the daily digest, in timezone"),
        sa.Column(
            "timezone", sa.String(length=64), nullable=False, comment="IANA time zone of digest_time: Asia/Shanghai …"
        ),
        sa.Column("digest_size", sa.Integer(), nullable=False, comment="At most this many articles in a digest"),
        sa.Column(
            "send_empty", sa.Boolean(), nullable=False, comment="Send a 'nothing new' digest when there is nothing"
        ),
        sa.Column(
            "last_digest_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Articles stored after this go in the next digest: the last digest's end, or (re)subscribing",
        ),
        sa.Column(
            "next_digest_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="First digest_time after last_digest_at, in UTC: finds due subscribers by index",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it first subscribed"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="When the row last changed"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_subscribers_chat_id")),
        comment="Chats that receive digests, and their settings; a chat that left stays, inactive",
    )
    op.create_index("ix_subscribers_active_next_digest_at", "subscribers", ["active", "next_digest_at"])
    op.create_table(
        "subscriber_sources",
        sa.Column("subscriber_id", sa.Integer(), nullable=False, comment="The subscriber"),
        sa.Column("source_id", sa.Integer(), nullable=False, comment="A source it follows"),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_subscriber_sources_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_sources_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "source_id", name=op.f("pk_subscriber_sources")),
        comment="Sources a subscriber follows; none means all of them",
    )
    op.create_index(op.f("ix_subscriber_sources_source_id"), "subscriber_sources", ["source_id"])
    op.create_table(
        "subscriber_filters",
        sa.Column("subscriber_id", sa.Integer(), nullable=False, comment="The subscriber"),
        sa.Column("keyword", sa.String(length=64), nullable=False, comment="The keyword, as typed"),
        sa.Column(
            "include",
            sa.Boolean(),
            nullable=False,
            comment="True: keep only articles with it (any such); False: drop them",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_filters_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "keyword", name=op.f("pk_subscriber_filters")),
        comment="Keyword filters of digests: /filter 词 keeps matches, /filter -词 drops them",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="digest, announcement or channel_post"),
        sa.Column(
            "key",
            sa.String(length=128),
            nullable=False,
            comment="Which one of its kind: digest date, announcement id, article id",
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, comment="Telegram chat it goes to"),
        sa.Column(
            "payload",
            sa.JSON(),
            nullable=False,
            comment='The rendered message: {"parts": [{text, parse_mode, reply_markup …}, …]}, parts sent in order',
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending, sending, sent, blocked or failed"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="Sends tried, an expired claim included"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, comment="Not to be sent before then"),
        sa.Column("claimed_by", sa.String(length=128), nullable=True, comment="Sender that claimed it last"),
        sa.Column(
            "claimed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When it was claimed last: a 'sending' row older than the lease is reclaimed",
        ),
        sa.Column("last_error", sa.Text(), nullable=True, comment="Error of the last failed attempt"),
        sa.Column(
            "telegram_message_ids",
            sa.JSON(),
            nullable=False,
            comment="Telegram ids of the parts sent so far, in order: a retry resumes after them",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it was enqueued"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="When its status last changed"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True, comment="When it was sent; NULL until then"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        # Enqueuing the same broadcast twice (two schedulers, a restart) inserts nothing the second time.
        sa.UniqueConstraint("kind", "key", "chat_id", name="uq_outbox_kind_key_chat_id"),
        comment="Delivery outbox: every broadcast message, one row per chat, before and after sending",
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "author_user_id", sa.BigInteger(), nullable=False, comment="Telegram user id of the admin who wrote it"
        ),
        sa.Column("text", sa.Text(), nullable=False, comment="The text, as the admin wrote it"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="draft, sending, done or cancelled"),
        sa.Column("preview_chat_id", sa.BigInteger(), nullable=True, comment="Chat of the preview/progress message"),
        sa.Column(
            "preview_message_id",
            sa.BigInteger(),
            nullable=True,
            comment="Telegram id of the preview/progress message, edited as it goes",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it was written"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="When the row last changed"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        comment="Admin broadcasts; their outbox rows have kind announcement, key the id",
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False, comment="The ticket number"),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            nullable=True,
            comment="Telegram user id of the reporter; NULL when Telegram gives none (a channel post)",
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, comment="Chat it was sent from"),
        sa.Column("username", sa.String(length=64), nullable=True, comment="Reporter's @username: admins only"),
        sa.Column(
            "name",
            sa.String(length=256),
            nullable=True,
            comment="Reporter's name as Telegram shows it (first and last): admins only",
        ),
        sa.Column("text", sa.Text(), nullable=False, comment="What was reported"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it was reported"),
        sa.Column("forwarded", sa.Boolean(), nullable=False, comment="Whether the admins have been sent it"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        comment="Users' reports (举报) sent to the admins",
        sqlite_autoincrement=True,  # a ticket number is never given twice
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, comment="Telegram chat id of the channel"),
        sa.Column("title", sa.String(length=256), nullable=False, comment="Channel title when bound"),
        sa.Column("username", sa.String(length=64), nullable=True, comment="@username of a public channel"),
        sa.Column("bound_by", sa.BigInteger(), nullable=False, comment="Telegram user id of the admin who bound it"),
        sa.Column("active", sa.Boolean(), nullable=False, comment="False once unbound or the bot lost access"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it was first bound"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="When the row last changed"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_channels_chat_id")),
        comment="Channels the bot posts each new article to",
    )
    # A plain index, no batch copy of `articles`: its SQLite full-text triggers stay as they are.
    op.create_index("ix_articles_fetched_at", "articles", ["fetched_at"])


def downgrade() -> None:
    """Drop everything upgrade created."""
    op.drop_index("ix_articles_fetched_at", table_name="articles")
    op.drop_table("channels")
    op.drop_table("reports")
    op.drop_table("announcements")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("subscriber_filters")
    op.drop_index(op.f("ix_subscriber_sources_source_id"), table_name="subscriber_sources")
    op.drop_table("subscriber_sources")
    op.drop_index("ix_subscribers_active_next_digest_at", table_name="subscribers")
    op.drop_table("subscribers")
