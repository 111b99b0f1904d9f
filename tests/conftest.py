"""Shared fixtures: the files under tests/data/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    """Return the Jingzhou text dump, as saved from the page."""
    return (DATA / "jingzhou-2023-07-13.txt").read_bytes()


@pytest.fixture(scope="session")
def seed_gold() -> dict[str, Any]:
    """Return what a correct parse and summary of the Jingzhou dump contain."""
    return json.loads((DATA / "jingzhou-2023-07-13.gold.json").read_text(encoding="utf-8"))
