"""From a source to stored, summarised articles: the ingest runs and the analysis worker beside them."""

from bot.pipeline._analysis import Analysis, Analyzer, analyze
from bot.pipeline._ingest import (
    FAILED,
    FAILURES_BEFORE_BACKOFF,
    NOT_ARTICLE,
    OUTCOMES,
    IngestTally,
    Progress,
    backoff_interval,
    ingest_page,
    ingest_source,
    ingest_targets,
    ingest_urls,
    resummarize_all,
)

__all__ = [
    "FAILED",
    "FAILURES_BEFORE_BACKOFF",
    "NOT_ARTICLE",
    "OUTCOMES",
    "Analysis",
    "Analyzer",
    "IngestTally",
    "Progress",
    "analyze",
    "backoff_interval",
    "ingest_page",
    "ingest_source",
    "ingest_targets",
    "ingest_urls",
    "resummarize_all",
]
