"""SimHash fingerprints: stable across processes, close for reposts, far for different stories, fast."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import parse
from ingest._dedupe import hamming, simhash
from tests.pageserver import SAMPLES, SITE

ROOT = Path(__file__).parents[2]
# Stored fingerprints depend on these: a change here is a migration, not a refactor.
GOLDEN = {
    "清河县召开汛期安全生产工作会议": -1142978491381381874,
    "News in English, with CAPS and 2024 digits.": 3286121195900574885,
}


def article_text(name: str) -> str:
    folder = SITE if (SITE / name).exists() else SAMPLES
    return parse((folder / name).read_bytes()).text


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {
        name: article_text(name)
        for name in ("yunnan-daily-2022-02-13.html", "cnr-gb2312-2022-02-13.html", "county-gbk-2024-06-12.html")
    }


@pytest.mark.parametrize(("text", "value"), GOLDEN.items())
def test_golden_values(text: str, value: int) -> None:
    assert simhash(text) == value


def test_same_in_another_process_with_another_hash_seed() -> None:
    code = "import sys; from ingest._dedupe import simhash; print(simhash(sys.argv[1]))"
    text = next(iter(GOLDEN))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code, text], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    assert int(result.stdout) == simhash(text) == GOLDEN[text]


def test_signed_64_bit(texts: dict[str, str]) -> None:
    values = [simhash(text) for text in texts.values()] + list(GOLDEN.values())
    assert all(-(2**63) <= value < 2**63 for value in values)
    assert any(value < 0 for value in values)  # the top bit is a sign, as a BIGINT column stores it


def test_reposts_are_near(texts: dict[str, str]) -> None:
    for text in texts.values():
        original = simhash(text)
        paragraphs = text.split("\n")
        reposts = [
            "转自清河新闻网\n" + text,
            text + "\n（责任编辑：王某）",
            text.replace("，", ",").replace("：", ":").replace("（", "(").replace("）", ")"),
            " \n".join(f"　　{paragraph}" for paragraph in paragraphs),
        ]
        # A 7-character credit line is 9 new 3-grams: 5-6 bits on a 300-character article.
        for repost in reposts:
            assert hamming(original, simhash(repost)) <= 6


def test_different_stories_are_far(texts: dict[str, str]) -> None:
    yunnan, cnr, county = (simhash(text) for text in texts.values())
    assert min(hamming(yunnan, cnr), hamming(yunnan, county), hamming(cnr, county)) >= 16


def test_width_case_and_punctuation_do_not_count() -> None:
    assert simhash("２０２４年ＡＢＣ新闻。") == simhash("2024年abc新闻")
    assert simhash("") == simhash(" \n\t。，！") == 0
    assert simhash("新闻") != 0  # shorter than one 3-gram, still a fingerprint


def test_hamming() -> None:
    a, b = GOLDEN.values()
    assert hamming(a, a) == 0
    assert hamming(a, b) == hamming(b, a)
    assert hamming(0, -1) == 64
    assert hamming(-1, 2**64 - 1) == 0  # signed and unsigned spellings of one fingerprint


def test_fast_enough_for_every_article(texts: dict[str, str]) -> None:
    text = ("\n".join(texts.values()) * 3)[:3000]
    runs = []
    for _ in range(20):
        start = time.perf_counter()
        simhash(text)
        runs.append(time.perf_counter() - start)
    # About 1 ms on a slow CI core; the bound only catches a fall back to per-bit Python loops.
    assert min(runs) < 0.01
