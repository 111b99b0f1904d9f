"""An admin's answer to a report: stored on the report, sent through the outbox (kind report_answer).

The kind is a value of a VARCHAR column: only its description changes.

Revision ID: 20261214_report_answers
Revises: 20261214_searches
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261214_report_answers"
down_revision: str | None = "20261214_searches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND = ("digest, announcement, channel_post or report", "digest, announcement, channel_post, report or report_answer")


def _describe_kind(kind: str, before: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments
    op.alter_column(
        "outbox",
        "kind",
        existing_type=sa.String(length=16),
        existing_nullable=False,
        comment=kind,
        existing_comment=before,
    )


def upgrade() -> None:
    """Add the answer columns; describe the new kind."""
    answer = "An admin's latest answer to the reporter; NULL: open"
    op.add_column("reports", sa.Column("answer", sa.Text(), nullable=True, comment=answer))
    by = "Telegram user id of the admin who answered"
    op.add_column("reports", sa.Column("answered_by", sa.BigInteger(), nullable=True, comment=by))
    at = "When it was last answered"
    op.add_column("reports", sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True, comment=at))
    _describe_kind(_KIND[1], _KIND[0])


def downgrade() -> None:
    """Drop them; describe the kinds as before."""
    _describe_kind(_KIND[0], _KIND[1])
    # SQLite drops a column in place (3.35+): a batch copy would lose the table's AUTOINCREMENT.
    for column in ("answered_at", "answered_by", "answer"):
        op.drop_column("reports", column)
