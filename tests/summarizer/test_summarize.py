"""The summariser end to end: budget, ranking, keywords, determinism, the to_dict shape."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ingest import parse
from storage import index_text
from summarizer import SEGMENTERS, VERSION, Summary, segmented_by, summarize

NEWS = (
    "荆州新闻网消息7月13日，中国共产党荆州市第六届委员会第六次全体会议举行。\n"
    "全会由市委常委会主持。市委书记吴锦作讲话。\n"
    "会议强调，要守底线，深入实施流域综合治理。要稳基础，加快农业现代化步伐。\n"
    "会上，公安县、沙市区作表态发言。"
)


def test_key_sentences_fit_the_budget_in_document_order() -> None:
    summary = summarize(NEWS, budget=60)
    assert sum(len(s) for s in summary.key_sentences) <= 60
    positions = [NEWS.index(s) for s in summary.key_sentences]
    assert positions == sorted(positions)
    # The byline is cut off for display; the sentence is still the article's own text.
    assert summary.key_sentences[0].startswith("7月13日，中国共产党荆州市")


def test_each_segmenter_gives_the_same_summary_and_search_words() -> None:
    # rjieba and jieba cut alike without HMM: the switch changes speed, never a summary or an index.
    text = NEWS + "\n坚持“一盘棋”，G1-2地块2015-06-02动工，荆州市ＡＢＣ公司、沙市区和公安县参加。"
    outcomes = []
    for name in SEGMENTERS:
        with segmented_by(name):
            outcomes.append((summarize(text, title="荆州推进流域综合治理"), index_text("流域综合治理", [text])))
    assert all(outcome == outcomes[0] for outcome in outcomes)
    assert outcomes[0][0].keywords and "治理" in outcomes[0][1].split()
    with pytest.raises(ValueError, match="unknown segmenter"), segmented_by("thulac"):
        pass


def test_ranking_holds_every_sentence_once() -> None:
    summary = summarize(NEWS)
    texts = [r.text for r in summary.ranking]
    assert len(texts) == 6
    assert len(set(texts)) == 6
    assert all(t in NEWS for t in texts)
    assert not any(t.startswith("荆州新闻网消息") for t in texts)


def test_a_single_sentence_over_budget_is_cut() -> None:
    summary = summarize("这是一个很长很长的句子，" * 20 + "。", budget=30)
    assert len(summary.key_sentences) == 1
    assert len(summary.key_sentences[0]) == 30
    assert summary.key_sentences[0].endswith("…")


def test_deterministic_and_json_ready() -> None:
    a = summarize(NEWS, title="荆州市委全会举行").to_dict()
    b = summarize(NEWS, title="荆州市委全会举行").to_dict()
    assert a == b
    assert set(a) == {"key_sentences", "directives", "keywords", "facts", "version", "ranking"}
    assert set(a["facts"]) == {"date", "meeting", "people", "documents"}
    assert set(a["directives"][0]) == {"head", "text", "cue", "paragraph"}
    assert set(a["ranking"][0]) == {"text", "score"}
    assert a["version"] == VERSION
    json.dumps(a, ensure_ascii=False)


def test_a_stored_summary_reads_back_as_it_was_and_older_data_with_fields_missing_reads_too() -> None:
    summary = summarize(NEWS, title="荆州市委全会举行")
    assert Summary.from_dict(json.loads(json.dumps(summary.to_dict()))) == summary
    old = Summary.from_dict({"key_sentences": ["全会举行。"], "directives": [{"text": "要守底线", "head": "守底线"}]})
    assert old.key_sentences == ["全会举行。"] and old.directives[0].head == "守底线"
    assert (old.keywords, old.ranking, old.facts.people, old.version) == ([], [], [], "")


def test_keywords_are_content_words() -> None:
    keywords = summarize(NEWS).keywords
    assert 0 < len(keywords) <= 8
    assert "的" not in keywords
    assert all(k in NEWS for k in keywords)


def test_empty_and_blank_text() -> None:
    for text in ("", "   \n\n"):
        summary = summarize(text)
        assert summary.key_sentences == []
        assert summary.ranking == []
        assert summary.directives == []


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="budget"):
        summarize(NEWS, budget=0)


def test_accepts_any_document_with_title_and_paragraphs(seed_bytes: bytes) -> None:
    @dataclass
    class Doc:
        title: str
        paragraphs: list[str]

    article = parse(seed_bytes)
    assert summarize(Doc(article.title, article.paragraphs)).directives == summarize(article).directives


def test_seed_key_sentences_cover_the_lead(seed_bytes: bytes) -> None:
    summary = summarize(parse(seed_bytes))
    # The byline is cut off for display; the sentence is still the article's own text.
    assert summary.key_sentences[0].startswith("7月13日,中国共产党荆州市")
    assert sum(len(s) for s in summary.key_sentences) <= 200
