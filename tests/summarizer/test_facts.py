"""Facts: event date, meeting, people with titles, documents adopted."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from ingest import parse
from summarizer import summarize
from summarizer._facts import find_facts


def test_seed_facts_match_gold(seed_bytes: bytes, seed_gold: dict[str, Any]) -> None:
    facts = summarize(parse(seed_bytes)).facts
    gold = seed_gold["facts"]
    assert facts.date == gold["date"]
    assert facts.meeting == gold["meeting"]
    assert facts.people == gold["people"]
    nfkc = [unicodedata.normalize("NFKC", d) for d in facts.documents]
    assert nfkc == gold["documents"]


def test_name_before_title_and_day_only_date() -> None:
    facts = find_facts(
        "十四届全国人大常委会第二十二次会议在京举行",
        ["十四届全国人大常委会第二十二次会议27日下午在北京人民大会堂举行第一次全体会议。赵乐际委员长主持。"],
        published=date(2026, 4, 28),
    )
    assert facts.date == "4月27日"
    assert facts.meeting == "十四届全国人大常委会第二十二次会议"
    assert facts.people == ["赵乐际委员长"]


def test_meeting_after_convene_verb() -> None:
    facts = find_facts("", ["李克强12月2日主持召开国务院常务会议，部署推进金融改革。"])
    assert facts.meeting == "国务院常务会议"
    assert facts.date == "12月2日"


def test_meeting_after_convene_verb_and_de() -> None:
    facts = find_facts("", ["记者近日从西藏自治区农业农村厅召开的全区农牧业工作会议上了解到，全区改造厕所4.66万座。"])
    assert facts.meeting == "全区农牧业工作会议"


def test_documents_only_after_adoption_verbs() -> None:
    facts = find_facts(
        "",
        ["会议审议通过《安全生产条例》和《防汛预案》。", "他在讲话中引用了《论语》。", "印发《实施方案》。"],
    )
    assert facts.documents == ["安全生产条例", "防汛预案", "实施方案"]


def test_story_without_facts() -> None:
    facts = find_facts("村超落幕", ["数万名观众到场观赛，气氛热烈。"])
    assert facts.date is None
    assert facts.meeting is None
    assert facts.people == []
    assert facts.documents == []
