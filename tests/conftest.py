"""Shared fixtures: the sample articles and the gold labels under tests/data/."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

# The local HTTP server the fetch, discovery and ingest tests talk to, and the databases.
pytest_plugins = [
    "tests.pageserver",
    "tests.hostileserver",
    "tests.databases",
    "tests.emulated",
    "tests.bot.botenv",
]

# A worker process to summarise in costs each bot about a second to start: the tests of that path
# ask for one (tests/bot/pipeline/test_ingest.py); everywhere else articles are summarised in a thread.
os.environ.setdefault("NEWSBOT_INGEST__WORKERS", "0")

DATA = Path(__file__).parent / "data"
# Sample articles ship inside the package (the offline default source reads them too).
SAMPLES = Path(__file__).parents[1] / "ingest" / "samples"


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    """Return the Jingzhou text dump, as saved from the page."""
    return (SAMPLES / "jingzhou-2023-07-13.txt").read_bytes()


@pytest.fixture(scope="session")
def seed_gold() -> dict[str, Any]:
    """Return what a correct parse and summary of the Jingzhou dump contain."""
    return json.loads((DATA / "jingzhou-2023-07-13.gold.json").read_text(encoding="utf-8"))
