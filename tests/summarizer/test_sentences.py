"""Sentence splitting: quotes, book titles, half-width marks, unterminated endings."""

from __future__ import annotations

import pytest

from summarizer import split_sentences
from summarizer._sentences import split_paragraphs, split_text

GOLDEN = [
    # A closing quote stays with its sentence (sumy moves it to the next one).
    ("他说：“我们要努力。”然后走了。", ["他说：“我们要努力。”", "然后走了。"]),
    # A final sentence without an end mark is kept (sumy drops it).
    ("第一句。最后一句没有句号", ["第一句。", "最后一句没有句号"]),
    # Never split inside a book title.
    ("审议通过《关于加强。管理的决定》。会议结束。", ["审议通过《关于加强。管理的决定》。", "会议结束。"]),
    # Half-width marks, as in the NLPCC texts.
    ("好!真的?是的,走吧", ["好!", "真的?", "是的,走吧"]),
    # Runs of end marks stay together.
    ("真的吗？！对……好。", ["真的吗？！", "对……", "好。"]),
    # ASCII quotes, balanced.
    ('他说"好的。走吧。"然后呢?', ['他说"好的。走吧。"', "然后呢?"]),
    # Parentheses with an end mark inside.
    ("会议指出（详见附件。）要抓落实。", ["会议指出（详见附件。）要抓落实。"]),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_unbalanced_quote_does_not_swallow_the_paragraph() -> None:
    text = "他说“我们要努力。" + "然后走了。" * 100
    assert len(split_sentences(text)) > 50


def test_semicolon_items_stay_in_one_sentence() -> None:
    assert split_sentences("一是抓学习；二是抓落实。") == ["一是抓学习；二是抓落实。"]


def test_no_break_space_and_blank_lines() -> None:
    paragraphs = split_paragraphs("  第一段。\n\n\u3000\u3000第二段\u00a0正文。\n \n")
    assert paragraphs == ["第一段。", "第二段\u00a0正文。"]


def test_split_text_numbers_sentences_and_paragraphs() -> None:
    sentences = split_text(["甲。乙。", "丙"])
    assert [(s.text, s.paragraph, s.index) for s in sentences] == [
        ("甲。", 0, 0),
        ("乙。", 0, 1),
        ("丙", 1, 2),
    ]


def test_split_keeps_every_character() -> None:
    text = "会议强调,要守底线。“规划图”变成“施工图”!下一步?还有没有结尾"
    assert "".join(split_sentences(text)) == text
