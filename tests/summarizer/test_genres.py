"""Golden cases, one short article a genre: what is chosen, what is shown, what is not prescribed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.render import DigestItem, digest_messages, summary_message
from ingest import Article, parse
from summarizer import Summary, summarize
from tests.conftest import DATA
from tests.stored import Stored

GENRES = DATA / "genres"
_BYLINES = ("荆州新闻网消息", "新华社北京", "人民网北京", "本报讯", "（记者", "（通讯员")


def _read(name: str) -> tuple[Article, Summary]:
    article = parse((GENRES / f"{name}.txt").read_bytes(), url=f"file:///{name}.txt")
    return article, summarize(article)


def test_a_meeting_report_keeps_its_lead_its_decision_and_its_directives() -> None:
    _, summary = _read("meeting")
    key = summary.key_sentences
    assert key[0].startswith("7月10日，市委常委会召开会议")  # the lead, its byline cut
    assert any("审议通过" in s for s in key)
    assert any("要守牢安全底线" in s for s in key)
    assert [d.head for d in summary.directives] == ["守牢安全底线", "强化监测预警", "做好应急准备"]


def test_state_council_bans_keep_their_condition() -> None:
    _, summary = _read("state-council")
    texts = [d.text for d in summary.directives]
    assert "凡没有法律法规依据的收费项目，一律取消" in texts
    assert "对已经明令取消的收费项目，各地区各部门不得以任何名义变相收取" in texts
    assert "严禁借审批之机向企业摊派费用" in texts
    assert summary.key_sentences[0].startswith("国务院总理主持召开国务院常务会议")


def test_what_a_draft_law_says_is_no_directive_of_the_meeting() -> None:
    _, summary = _read("law-review")
    assert summary.directives == []
    assert summary.key_sentences[0].startswith("十四届全国人大常委会第九次会议25日分组审议")


def test_an_ordinary_story_prescribes_nothing_and_leads_with_its_news() -> None:
    _, summary = _read("ordinary")
    assert summary.directives == []
    assert summary.key_sentences[0].startswith("7月15日，沙市区胜利街道一社区的暑期托管班正式开班")


@pytest.mark.parametrize("name", ["meeting", "state-council", "law-review", "ordinary"])
def test_no_byline_is_shown_and_nothing_is_said_twice(name: str) -> None:
    article, summary = _read(name)

    stored = Stored(1, "https://example.cn/1.html", article.title, article.paragraphs, article.source)
    stored_summary = Summary.from_dict(summary.to_dict())  # as the bot reads it back
    assert stored_summary == summary
    message, _ = summary_message(stored, stored_summary, "zh", ZoneInfo("Asia/Shanghai"))
    ((digest, _),) = digest_messages([DigestItem(stored, stored_summary, "测试")], "zh", "<b>摘要</b>")
    for shown in (message, digest):
        assert not any(b in shown for b in _BYLINES), shown
    for d in summary.directives:
        assert message.count(d.text.split("，")[0]) <= 1, d.text
    assert any(b in article.paragraphs[0] for b in _BYLINES)  # the stored text keeps it
