"""The text-dump parser against the Jingzhou gold file."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from ingest import Author, ContactKind, ParseError, parse, parse_text_dump


def test_seed_fields_match_gold(seed_bytes: bytes, seed_gold: dict[str, Any]) -> None:
    article = parse(seed_bytes)
    assert article.title == seed_gold["title"]
    assert article.source == seed_gold["source"]
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == seed_gold["published"]
    assert str(article.published_at.tzinfo) == "Asia/Shanghai"
    assert article.authors == [Author(**a) for a in seed_gold["authors"]]
    assert article.editor == seed_gold["editor"]
    # In the order the page prints them.
    assert [(c.label, c.value, c.kind) for c in article.contacts] == [
        ("网络谣言和虚假信息举报入口", None, ContactKind.ENTRY),
        ("e线民生短信通道", "18272211111", ContactKind.SMS),
        ("违法和不良信息举报", "0716-8445200", ContactKind.PHONE),
    ]
    assert {(c.label, c.value) for c in article.contacts} == {(c["label"], c["value"]) for c in seed_gold["contacts"]}
    assert unicodedata.normalize("NFKC", article.paragraphs[0]).startswith(seed_gold["body_first"])
    assert unicodedata.normalize("NFKC", article.paragraphs[-1]) == seed_gold["body_last"]


def test_seed_boilerplate_is_gone(seed_bytes: bytes, seed_gold: dict[str, Any]) -> None:
    body = "\n".join(parse(seed_bytes).paragraphs)
    for phrase in seed_gold["boilerplate_must_not_appear"]:
        assert phrase not in body


def test_gbk_bytes_parse_like_utf8(seed_bytes: bytes) -> None:
    gbk = seed_bytes.decode("utf-8").encode("gb18030")
    assert parse(gbk).paragraphs == parse(seed_bytes).paragraphs


def test_dump_without_headline_is_all_body() -> None:
    text = "这是一段没有标题的很长的新闻正文，" * 10 + "结束。"
    article = parse_text_dump(text)
    assert article.title == ""
    assert article.paragraphs == [text]


def test_multi_line_meta_block() -> None:
    article = parse_text_dump(
        "县里召开防汛会议\n来源：某某县融媒体中心\n发布时间：2024年6月3日 09:30\n"
        "（通讯员 李四）6月3日，县里召开防汛会议。\n责任编辑：王五\n"
    )
    assert article.title == "县里召开防汛会议"
    assert article.source == "某某县融媒体中心"
    assert article.published_at is not None
    assert (article.published_at.hour, article.published_at.minute) == (9, 30)
    assert article.authors == [Author("通讯员", "李四")]
    assert article.editor == "王五"
    assert article.paragraphs == ["（通讯员 李四）6月3日，县里召开防汛会议。"]


@pytest.mark.parametrize("data", [b"", b"   \n\n", "标题\n来源：某报\n编辑：张三\n"])
def test_no_body_is_a_parse_error(data: bytes | str) -> None:
    with pytest.raises(ParseError):
        parse(data)
