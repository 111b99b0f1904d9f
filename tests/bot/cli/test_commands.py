"""The command line: readable and JSON output, and one-line errors for bad input."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.pageserver import PageServer

SAMPLES = Path(__file__).parents[3] / "ingest" / "samples"
SEED = str(SAMPLES / "jingzhou-2023-07-13.txt")
runner = CliRunner()


def test_summarize_prints_a_readable_summary() -> None:
    result = runner.invoke(app, ["summarize", SEED])
    assert result.exit_code == 0, result.output
    for expected in (
        "中共荆州市委六届六次全体会议举行",
        "荆州广播电视台",
        "守底线",
        "部署要求（20 条）",
        "0716-8445200",
    ):
        assert expected in result.output
    # Each directive says its head once, where it stands: 要守底线, not 守底线：要守底线.
    assert "要守底线" in result.output and "守底线：" not in result.output


def test_summarize_names_a_meeting_without_the_words_before_it() -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLES / "tibet-2022-02-13.html")])
    assert result.exit_code == 0, result.output
    assert "会议 全区农牧业工作会议" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"newsbot {version('newsbot')}"


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
        "refused": "http://127.0.0.1:9/a.html",  # the discard port: nothing listens
    }


@pytest.mark.parametrize("case", ["empty", "binary", "huge", "directory", "missing", "refused"])
def test_bad_input_gets_one_line_and_non_zero_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH__RETRIES", "0")
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


@pytest.mark.asyncio
async def test_summarize_a_url(page_server: PageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH__DELAY", "0")
    # The command runs its own event loop: off this one, where the page server answers.
    args = ["summarize", page_server.url("/pages/cnr-gbk.html"), "--json"]
    result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["article"]["url"] == page_server.url("/pages/cnr-gbk.html")
    assert "军队装备试验鉴定规定" in data["summary"]["facts"]["documents"][0]


def test_ingest_list_search_and_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'n.db'}")
    first = runner.invoke(app, ["ingest"])  # the bundled sample source
    assert first.exit_code == 0, first.output
    assert "示例" in first.output
    again = runner.invoke(app, ["ingest", "--source", "示例"])
    assert again.exit_code == 0, again.output
    listed = runner.invoke(app, ["articles", "--json", "--limit", "50"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == len(list(SAMPLES.glob("*.txt"))) + len(list(SAMPLES.glob("*.html")))
    assert {"id", "url", "title", "source", "published_at"} <= set(rows[0])
    found = runner.invoke(app, ["articles", "--search", "流域治理", "--json"])
    assert [json.loads(line)["title"] for line in found.stdout.splitlines()] == ["中共荆州市委六届六次全体会议举行"]
    health = runner.invoke(app, ["sources"])
    assert health.exit_code == 0
    assert "示例" in health.output


def test_ingest_files_and_unknown_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'n.db'}")
    result = runner.invoke(app, ["ingest", SEED, SEED])
    assert result.exit_code == 0, result.output
    assert "命令行" in result.output
    unknown = runner.invoke(app, ["ingest", "--source", "nope"])
    assert unknown.exit_code == 1
    assert "no source named 'nope'" in unknown.output


def test_ingest_counts_pages_that_are_no_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'n.db'}")
    pages = Path(__file__).parents[2] / "data" / "verdict"
    result = runner.invoke(app, ["ingest", str(pages / "local-story.html"), str(pages / "journal-issue.html")])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "source" in line)
    row = next(line for line in result.output.splitlines() if "命令行" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]][-2:] == ["not_article", "failed"]
    assert [cell.strip() for cell in row.split("│")[1:-1]][1:] == ["1", "0", "0", "0", "1", "0"]
    listed = runner.invoke(app, ["articles", "--json"])
    assert [json.loads(line)["title"] for line in listed.stdout.splitlines()] == ["城关镇为独居老人安装烟感报警器"]


def test_db_upgrade_and_resummarize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'n.db'}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["ingest", SEED]).exit_code == 0
    result = runner.invoke(app, ["resummarize"])
    assert result.exit_code == 0
    assert "resummarised 0 articles" in result.output  # all current


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    result = runner.invoke(app, ["articles"])
    assert result.exit_code == 1
    assert result.output.startswith("newsbot:")
    assert len(result.output.strip().splitlines()) == 1


def test_chat_runs_the_bot_in_a_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "COLUMNS": "200"}
    env.pop("NEWSBOT_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="/latest\n/summary 流域治理\n!1\n/subscribe\n/digest\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "最新文章" in out and "中共荆州市委六届六次全体会议举行" in out
    assert "部署要求" in out and "守底线" in out  # the summary
    assert "第 1/" in out or "全会由市委常委会主持" in out  # !1 pressed 全文
    assert "已订阅" in out and "下一期摘要" in out  # no digest is scheduled here: /digest shows it
    assert "Traceback" not in proc.stderr
