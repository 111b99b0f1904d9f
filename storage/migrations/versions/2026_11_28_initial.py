"""Initial schema: sources, articles, summaries, fetch state, and full-text search.

Revision ID: 20261128_initial
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: an FTS5 index over articles.search_text (external content: the text is stored once, in
# articles), kept in step by triggers. A later batch migration of `articles` recreates the table
# and drops these triggers with it: such a migration must create them again.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5(search_text, content='articles', content_rowid='id')",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles WHEN new.search_text IS NOT NULL BEGIN
        INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles WHEN old.search_text IS NOT NULL BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, search_text)
            SELECT 'delete', old.id, old.search_text WHERE old.search_text IS NOT NULL;
        INSERT INTO articles_fts(rowid, search_text)
            SELECT new.id, new.search_text WHERE new.search_text IS NOT NULL;
    END""",
]


def upgrade() -> None:
    """Create the tables, their indexes and the full-text index."""
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="Name from the configuration"),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="How it is read: rss, listpage, page, dir …"),
        sa.Column(
            "url", sa.String(length=2048), nullable=False, comment="Feed or listing page URL, or a path for files"
        ),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, comment="Failed runs since the last success"),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True, comment="When it last ran, either way"),
        sa.Column(
            "last_success_at", sa.DateTime(timezone=True), nullable=True, comment="When it last ran without error"
        ),
        sa.Column("last_error", sa.Text(), nullable=True, comment="Error of the last run; NULL after a success"),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True, comment="When the scheduler runs it next"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
        comment="News sources and the health of their scheduled runs",
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False, comment="Canonical URL, as ingest gives it"),
        sa.Column("source_id", sa.Integer(), nullable=False, comment="Source it was fetched from"),
        sa.Column("title", sa.Text(), nullable=False, comment="Headline"),
        sa.Column("source_name", sa.String(length=200), nullable=True, comment="来源: the outlet the page credits"),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True, comment="Publication time the page gives"),
        sa.Column(
            "dated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="published_at, or fetched_at when the page gives none: what newest-first sorts by",
        ),
        sa.Column("authors", sa.JSON(), nullable=False, comment="Byline: [{role, name}] (记者, 通讯员 …)"),
        sa.Column("editor", sa.String(length=200), nullable=True, comment="责任编辑"),
        sa.Column("paragraphs", sa.JSON(), nullable=False, comment="Body paragraphs; empty for a repost"),
        sa.Column(
            "contacts", sa.JSON(), nullable=False, comment="Reporting channels the page prints: [{label, value, kind}]"
        ),
        sa.Column("images", sa.JSON(), nullable=False, comment="Image URLs in body order"),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the normalised title and body: finds exact duplicates",
        ),
        sa.Column(
            "simhash", sa.BigInteger(), nullable=False, comment="64-bit SimHash of the text, two's complement signed"
        ),
        sa.Column("simhash_band0", sa.Integer(), nullable=False, comment="Bits 0-15 of simhash, unsigned"),
        sa.Column("simhash_band1", sa.Integer(), nullable=False, comment="Bits 16-31 of simhash, unsigned"),
        sa.Column("simhash_band2", sa.Integer(), nullable=False, comment="Bits 32-47 of simhash, unsigned"),
        sa.Column("simhash_band3", sa.Integer(), nullable=False, comment="Bits 48-63 of simhash, unsigned"),
        sa.Column(
            "duplicate_of_id",
            sa.Integer(),
            nullable=True,
            comment="The original this row reposts; NULL for an original",
        ),
        sa.Column(
            "raw_html",
            sa.LargeBinary(),
            nullable=True,
            comment="Fetched page, zlib-compressed, kept for re-extraction; NULL for a repost",
        ),
        sa.Column(
            "search_text",
            sa.Text(),
            nullable=True,
            comment="Title and body segmented by jieba, space-joined, for full-text search",
        ),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False, comment="When it was first fetched"),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, comment="When its stored content last changed"
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["articles.id"], name=op.f("fk_articles_duplicate_of_id_articles")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_articles_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("url", name=op.f("uq_articles_url")),
        comment="Articles as extracted; a repost is a link to its original, not a second copy",
    )
    op.create_index(op.f("ix_articles_content_hash"), "articles", ["content_hash"])
    op.create_index("ix_articles_dated_at", "articles", ["dated_at", "id"])
    for band in range(4):
        op.create_index(op.f(f"ix_articles_simhash_band{band}"), "articles", [f"simhash_band{band}"])
    op.create_index(op.f("ix_articles_source_id"), "articles", ["source_id"])
    op.create_table(
        "summaries",
        sa.Column("article_id", sa.Integer(), nullable=False, comment="The summarised article"),
        sa.Column("version", sa.String(length=32), nullable=False, comment="Summariser version that made it"),
        sa.Column("data", sa.JSON(), nullable=False, comment="Summary.to_dict()"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="When it was computed"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_summaries_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_summaries")),
        comment="One summary per original article",
    )
    op.create_table(
        "fetch_state",
        sa.Column("url", sa.String(length=2048), nullable=False, comment="The fetched URL"),
        sa.Column("etag", sa.String(length=1024), nullable=True, comment="ETag of the last fresh response"),
        sa.Column(
            "last_modified",
            sa.String(length=64),
            nullable=True,
            comment="Last-Modified of the last fresh response, verbatim, for If-Modified-Since",
        ),
        sa.Column(
            "last_status",
            sa.Integer(),
            nullable=True,
            comment="HTTP status of the last attempt; NULL without a response",
        ),
        sa.Column("error_count", sa.Integer(), nullable=False, comment="Failed attempts since the last success"),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False, comment="When it was last attempted"),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True, comment="Not to be fetched before then"),
        sa.Column("last_error", sa.Text(), nullable=True, comment="Error of the last attempt; NULL after a success"),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_fetch_state")),
        comment="Conditional-GET validators and error backoff, per fetched URL",
    )
    if op.get_context().dialect.name == "postgresql":
        # The same expression search_articles matches with; 'simple' keeps jieba's words as they are.
        op.create_index(
            "ix_articles_search_text",
            "articles",
            [sa.text("to_tsvector('simple'::regconfig, search_text)")],
            postgresql_using="gin",
        )
    else:
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    """Drop everything upgrade created."""
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_articles_search_text", table_name="articles")
    else:
        for trigger in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE articles_fts")
    op.drop_table("fetch_state")
    op.drop_table("summaries")
    op.drop_table("articles")
    op.drop_table("sources")
