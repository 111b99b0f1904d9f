"""The send budget: one overall rate for every sender on the database.

Revision ID: 20261207_send_budget
Revises: 20261207_report_notices
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_send_budget"
down_revision: str | None = "20261207_report_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table of shared rate limits."""
    op.create_table(
        "send_budget",
        sa.Column("name", sa.String(length=32), nullable=False, comment="Which limit: telegram, the bot's own"),
        sa.Column("next_free", sa.Float(), nullable=False, comment="Seconds since the epoch when the next slot starts"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_budget")),
        comment="The next free send slot of each shared rate limit",
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("send_budget")
