"""The command line: readable and JSON output, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

SAMPLES = Path(__file__).parents[2] / "ingest" / "samples"
SEED = str(SAMPLES / "jingzhou-2023-07-13.txt")
runner = CliRunner()


def test_summarize_prints_a_readable_summary() -> None:
    result = runner.invoke(app, ["summarize", SEED])
    assert result.exit_code == 0, result.output
    for expected in ("中共荆州市委六届六次全体会议举行", "荆州广播电视台", "守底线", "部署要求（20 条）", "0716-8445200"):
        assert expected in result.output


def test_summarize_json_shape() -> None:
    result = runner.invoke(app, ["summarize", SEED, "--json", "--budget", "120"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"article", "summary"}
    assert data["article"]["published_at"] == "2023-07-13T00:00:00+08:00"
    assert data["article"]["authors"][0] == {"role": "记者", "name": "蒋斌"}
    assert len(data["summary"]["directives"]) == 20
    assert sum(len(s) for s in data["summary"]["key_sentences"]) <= 120


def test_extract_json_and_stdin(seed_bytes: bytes) -> None:
    result = runner.invoke(app, ["extract", "-", "--json"], input=seed_bytes)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "中共荆州市委六届六次全体会议举行"
    assert data["editor"] == "苏园"
    assert data["contacts"][1] == {"label": "e线民生短信通道", "value": "18272211111", "kind": "sms"}


def _bad_inputs(tmp: Path) -> dict[str, str]:
    empty = tmp / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp / "binary.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    huge = tmp / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    return {
        "empty": str(empty),
        "binary": str(binary),
        "huge": str(huge),
        "directory": str(tmp),
        "missing": str(tmp / "nope.txt"),
        "url": "https://example.com/a.html",
    }


@pytest.mark.parametrize("case", ["empty", "binary", "huge", "directory", "missing", "url"])
def test_bad_input_gets_one_line_and_non_zero_exit(tmp_path: Path, case: str) -> None:
    target = _bad_inputs(tmp_path)[case]
    result = runner.invoke(app, ["summarize", target])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.output.strip()
    assert message.startswith("newsbot:")
    assert len(message.splitlines()) == 1


def test_undecodable_bytes_in_a_real_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\xff\xfe\x00" * 1000)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "summarize", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("newsbot:")


def test_bad_config_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("token = [unclosed", encoding="utf-8")
    result = runner.invoke(app, ["summarize", SEED, "--config", str(config)])
    assert result.exit_code == 1
    assert "not valid TOML" in result.output


def test_summarize_an_html_page() -> None:
    page = next(p for p in sorted(SAMPLES.glob("*.html")))
    result = runner.invoke(app, ["summarize", str(page), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["article"]["title"]
    assert data["article"]["paragraphs"]
    assert data["summary"]["key_sentences"]
