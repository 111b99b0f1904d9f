"""What a reader is shown: why a page could not be read, and a summary that is short and says nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator import parse_html
from bot.render import (
    LIMIT,
    DigestItem,
    channel_post,
    contacts_text,
    digest_messages,
    fetch_failure,
    full_pages,
    latest_message,
    shown_length,
    summary_budget,
    summary_message,
    unrepeated,
)
from ingest import (
    BlockedAddress,
    ConnectionFailed,
    DecodeError,
    FetchTimeout,
    HTTPStatusError,
    ParseError,
    TooLargeError,
    TooManyRedirects,
)
from summarizer import Summary
from tests.stored import Stored

URL = "http://example.cn/a.html"


@pytest.mark.parametrize(
    ("cause", "zh", "en"),
    [
        (HTTPStatusError(URL, 503), "网站返回了错误（HTTP 503）", "the site answered with an error (HTTP 503)"),
        (FetchTimeout(URL, "read timeout"), "网站响应超时", "the site took too long to answer"),
        (ConnectionFailed(URL, "connection refused"), "无法连接到网站", "could not connect to the site"),
        (TooManyRedirects(URL, "6 redirects"), "网页跳转次数过多", "the page redirected too many times"),
        (
            BlockedAddress(URL, "10.0.0.1 is private"),
            "该地址指向内部网络，不允许访问",
            "the address leads to an internal network",
        ),
        (TooLargeError("over 10 MB"), "网页太大", "the page is too large"),
        (DecodeError("binary"), "无法识别网页的文字编码", "its text encoding could not be recognised"),
        (ParseError("no title"), "网页中没有找到文章", "no article was found on it"),
        (RuntimeError("boom"), "读取时出错", "something went wrong reading it"),
        (None, "它与已存的文章相同，请用 /latest 查找", "it is an article stored already: see /latest"),
    ],
)
def test_each_failure_has_its_own_reason_and_no_english_for_chinese_users(
    cause: Exception | None, zh: str, en: str
) -> None:
    assert fetch_failure(cause, "zh") == f"无法读取该网页：{zh}。"
    assert fetch_failure(cause, "en") == f"Could not read that page: {en}."


ZONE = ZoneInfo("Asia/Shanghai")


def _directive(text: str, head: str) -> dict[str, object]:
    return {"text": text, "head": head, "cue": "会议强调", "paragraph": 1}


def test_a_directive_shown_as_a_key_sentence_is_not_listed_again() -> None:
    article = Stored(1, "https://example.cn/1.html", "市委常委会召开会议", ["会议召开。" * 20])
    summary = Summary.from_dict(
        {
            "key_sentences": ["市委常委会12日召开会议。", "会议强调，要守底线，抓好防汛工作。"],
            "directives": [_directive("要守底线，抓好防汛工作", "守底线"), _directive("要稳基础，抓好春耕", "稳基础")],
            "keywords": ["防汛"],
        }
    )
    text, _ = summary_message(article, summary, "zh", ZONE)
    assert text.count("守底线") == 1
    assert "1. 要<b>稳基础</b>，抓好春耕" in text
    assert [d.head for d in unrepeated(summary.directives, summary.key_sentences)] == ["稳基础"]


def test_a_long_list_is_its_heads_on_one_line_and_the_summary_stays_short() -> None:
    body = ["全会听取和讨论了常委会工作报告。" * 10] * 20  # 3,200 characters
    heads = ["守底线", "稳基础", "强引擎", "补短板", "赋能量", "扬优势"] * 5
    directives = [_directive(f"要{h}，" + "切实把各项工作抓实抓细抓出成效" * 3, h) for h in heads]
    summary = Summary.from_dict({"key_sentences": ["全会12日举行。", "全会审议通过了决定。"], "directives": directives})
    article = Stored(7, "https://example.cn/7.html", "全会举行", body)
    text, markup = summary_message(article, summary, "zh", ZONE)
    assert "部署要求（30 项）</b>：守底线 · 稳基础 · 强引擎" in text
    assert shown_length(text) <= min(1200, 0.4 * 3200)
    expand = markup.inline_keyboard[0][0]
    assert (expand.text, expand.callback_data) == ("展开 30 项部署要求", "d:7:1")
    full, markup = summary_message(article, summary, "zh", ZONE, expanded=True)
    assert "30. 要<b>扬优势</b>" in full and len(full) <= 4096
    assert markup.inline_keyboard[0][0].callback_data == "d:7:0"


def test_budget_is_a_share_of_a_long_body_and_never_above_1200() -> None:
    assert summary_budget(2000) == 800
    assert summary_budget(10_000) == 1200
    assert summary_budget(100) == 300  # a short article still gets its lead and heads


def test_heads_are_cut_between_words() -> None:
    text = "加快推进新时代推动西部大开发形成新格局的各项工作"
    article = Stored(2, "file:///a.txt", "会议", ["正文。"])
    summary = Summary.from_dict({"directives": [_directive(text, text[:13])]})
    shown, _ = summary_message(article, summary, "zh", ZONE)
    assert "1. <b>加快推进新时代推动西部</b>大开发形成" in shown


def test_shown_length_counts_what_a_reader_sees() -> None:
    assert shown_length("<b>守底线</b> &amp; 稳基础") == len("守底线 & 稳基础")


# Text that trips a cut: markup to escape, newlines, emoji, and runs long enough to fill messages.
_TEXT = st.text(alphabet=st.sampled_from("会议强调要抓落实。<>&;\n 😀a"), max_size=40)
_LONG = st.builds(lambda text, times: text * times, _TEXT, st.sampled_from([1, 7, 150, 600]))


@st.composite
def _directive_of(draw: st.DrawFn) -> dict[str, object]:
    text = draw(_LONG)
    return _directive(text, text[: draw(st.integers(0, 12))])


@settings(max_examples=100, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    title=_LONG,
    paragraphs=st.lists(_LONG.filter(str.strip), min_size=1, max_size=5),
    sentences=st.lists(_LONG, max_size=4),
    directives=st.lists(_directive_of(), max_size=30),
    keywords=st.lists(_TEXT, max_size=8),
)
def test_every_message_parses_and_fits_whatever_the_article(
    title: str, paragraphs: list[str], sentences: list[str], directives: list[dict[str, object]], keywords: list[str]
) -> None:
    article = Stored(
        10**15, "https://example.cn/a.html?x=1&y=<2>", title, paragraphs, "市政府网", datetime(2024, 6, 12, tzinfo=UTC)
    )
    summary = Summary.from_dict({"key_sentences": sentences, "directives": directives, "keywords": keywords})
    pages = full_pages(article, ZONE)
    messages = [
        summary_message(article, summary, "zh", ZONE)[0],
        summary_message(article, summary, "zh", ZONE, expanded=True)[0],
        channel_post(article, summary, ZONE),
        latest_message([article] * 30, "zh", ZONE, offset=0, more=True)[0],
        *(
            text
            for text, _ in digest_messages(
                [DigestItem(article, summary, "县融媒体中心")] * 3, "zh", "<b>摘要</b>", more=2
            )
        ),
        *pages,
    ]
    for message in messages:
        assert len(parse_html(message)) <= LIMIT, message[:200]  # raises where Telegram refuses the HTML
    assert all(len(page) <= LIMIT - 40 for page in pages)  # room for the page counter
    assert "".join(parse_html(pages[0]).split("\n", 2)[2:]).strip()  # the first page has text, not only the header


def test_contacts_are_listed_under_their_outlet_each_once() -> None:
    phone = {"label": "举报电话", "value": "0716-8445200"}
    text = contacts_text(
        [("荆州日报", [phone]), ("<光明网>", [phone, {"label": "举报入口", "value": None}]), ("空", [phone])], "zh"
    )
    assert text.split("\n") == [
        "<b>举报方式</b>",
        "",
        "<b>荆州日报</b>",
        "• 举报电话：0716-8445200",
        "",
        "<b>&lt;光明网&gt;</b>",  # an outlet is page text: escaped
        "• 举报入口",
    ]  # an outlet left with nothing new gets no heading
    assert contacts_text([(None, [phone])], "zh") == "<b>举报方式</b>\n• 举报电话：0716-8445200"
    assert contacts_text([], "zh") == "<b>举报方式</b>\n暂无举报方式。"
