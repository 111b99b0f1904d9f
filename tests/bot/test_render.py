"""Why a page could not be read, said in the user's language (`bot.render.fetch_failure`)."""

from __future__ import annotations

import pytest

from bot.render import fetch_failure
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
