"""Searches: the words of a /search, named by id in its [更多] button instead of kept in the chat.

Revision ID: 20261214_searches
Revises: 20261212_digest_shown_until
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261214_searches"
down_revision: str | None = "20261212_digest_shown_until"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table of searched words."""
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sa.String(length=500), nullable=False, comment="The words as typed (one row per words)"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When they were first searched"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_searches")),
        sa.UniqueConstraint("words", name=op.f("uq_searches_words")),
        comment="Words searched with /search, named by id in their result pages' buttons",
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("searches")
