"""Each subscriber reads Chinese in Simplified (hans) or Traditional (hant) characters.

Every chat subscribed so far read Simplified: the column starts so.

Revision ID: 20261216_subscriber_script
Revises: 20261214_report_answers
Create Date: 2026-12-16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261216_subscriber_script"
down_revision: str | None = "20261214_report_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, Simplified for every subscriber there is."""
    comment = "Chinese shown as hans (Simplified) or hant (Traditional)"
    op.add_column(
        "subscribers",
        sa.Column("script", sa.String(length=8), nullable=False, server_default="hans", comment=comment),
    )


def downgrade() -> None:
    """Drop it: every subscriber reads Simplified again."""
    # SQLite drops a column in place (3.35+), as the report answers' downgrade does.
    op.drop_column("subscribers", "script")
