"""Report notices go through the outbox (kind report); announcements have a queued status.

Both are values of VARCHAR columns: only the columns' descriptions change.

Revision ID: 20261207_report_notices
Revises: 20261128_bot
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_report_notices"
down_revision: str | None = "20261128_bot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND = ("digest, announcement or channel_post", "digest, announcement, channel_post or report")
_STATUS = ("draft, sending, done or cancelled", "draft, sending, queued, done or cancelled")


def _describe(kind: str, status: str, kind_before: str, status_before: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments
    op.alter_column(
        "outbox",
        "kind",
        existing_type=sa.String(length=16),
        existing_nullable=False,
        comment=kind,
        existing_comment=kind_before,
    )
    op.alter_column(
        "announcements",
        "status",
        existing_type=sa.String(length=16),
        existing_nullable=False,
        comment=status,
        existing_comment=status_before,
    )


def upgrade() -> None:
    """Describe the new kind and status."""
    _describe(_KIND[1], _STATUS[1], _KIND[0], _STATUS[0])


def downgrade() -> None:
    """Describe the columns as before."""
    _describe(_KIND[0], _STATUS[0], _KIND[1], _STATUS[1])
