"""A digest that held fewer articles than were waiting leaves the rest for the next one.

subscribers.shown_until marks how far the last digest read; last_digest_at keeps only the schedule.

Revision ID: 20261212_digest_shown_until
Revises: 20261207_send_budget
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261212_digest_shown_until"
down_revision: str | None = "20261207_send_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LAST = (
    "Articles stored after this go in the next digest: the last digest's end, or (re)subscribing",
    "When the last digest was made, or (re)subscribing: the next digest is due after it",
)


def _describe_last(comment: str, before: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite keeps no column comments
    op.alter_column(
        "subscribers",
        "last_digest_at",
        existing_type=sa.DateTime(timezone=True),
        existing_nullable=False,
        comment=comment,
        existing_comment=before,
    )


def upgrade() -> None:
    """Add the column (NULL: the last digest held everything) and describe last_digest_at anew."""
    op.add_column(
        "subscribers",
        sa.Column(
            "shown_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="The last digest held what was stored up to this, the rest waits for the next; NULL: all of it",
        ),
    )
    _describe_last(_LAST[1], _LAST[0])


def downgrade() -> None:
    """Drop it: the articles a digest left waiting are then skipped, as before."""
    _describe_last(_LAST[0], _LAST[1])
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("shown_until")
