"""Each app's rich format, split under its size limit, in order, with every article linked."""

from __future__ import annotations

import re

import pytest

from bot.config import RobotKind
from bot.robots import PLATFORMS, announcement_payloads, digest_payloads, measure
from tests.bot.robots.digests import digest

DATE = "2024-07-01"


def _text(kind: RobotKind, payload: dict) -> str:
    """Return what the message says, for looking articles up in it."""
    if kind is RobotKind.FEISHU:
        post = payload["content"]["post"]["zh_cn"]
        return (
            post["title"]
            + "\n"
            + "\n".join("".join(e.get("href", "") + e["text"] for e in line) for line in post["content"])
        )
    return payload["markdown"].get("text") or payload["markdown"]["content"]


def test_the_formats_are_the_apps_own() -> None:
    wecom, dingtalk, feishu = (digest_payloads(kind, digest(2), DATE)[0] for kind in RobotKind)
    assert wecom["msgtype"] == "markdown"
    assert wecom["markdown"]["content"].startswith(f"**每日摘要 · {DATE}**\n\n**【荆州新闻网】**\n")
    # Markup characters of the article are shown full-width, not taken as markdown.
    assert "[第1篇：市委常委会召开会议［扩大］](https://news.example.cn/a/1.html)" in wecom["markdown"]["content"]
    assert "＊要＊守住底线" in wecom["markdown"]["content"]
    assert dingtalk["msgtype"] == "markdown" and dingtalk["markdown"]["title"] == f"每日摘要 · {DATE}"
    assert dingtalk["markdown"]["text"].startswith(f"### 每日摘要 · {DATE}\n\n")
    post = feishu["content"]["post"]["zh_cn"]
    assert feishu["msg_type"] == "post" and post["title"] == f"每日摘要 · {DATE}"
    assert {"tag": "a", "text": "第2篇：市委常委会召开会议[扩大]", "href": "https://news.example.cn/a/2.html"} in [
        e for line in post["content"] for e in line
    ]


def test_nothing_stored_is_no_message() -> None:
    assert all(digest_payloads(kind, [], DATE) == [] for kind in RobotKind)


@pytest.mark.parametrize("kind", list(RobotKind))
def test_a_long_digest_is_split_into_parts_that_fit_in_order(kind: RobotKind) -> None:
    items = digest(120)
    parts = digest_payloads(kind, items, DATE)
    assert len(parts) > 1
    assert all(measure(kind, p) <= PLATFORMS[kind].max_bytes for p in parts)
    text = "\n".join(_text(kind, p) for p in parts)
    shown = [int(n) for n in re.findall(r"/a/(\d+)\.html", text)]
    odd, even = [n for n in range(1, 121) if n % 2], [n for n in range(1, 121) if not n % 2]
    assert shown == odd + even  # every article once, grouped by source, in order across the parts
    assert "（续）" in _text(kind, parts[1])


@pytest.mark.parametrize("kind", list(RobotKind))
def test_an_article_longer_than_a_message_is_cut_to_fit(kind: RobotKind) -> None:
    parts = digest_payloads(kind, digest(1, sentence="很长的一句话" * 5000), DATE)
    assert all(measure(kind, p) <= PLATFORMS[kind].max_bytes for p in parts)
    assert "…" in _text(kind, parts[-1])


def test_an_announcement_keeps_its_paragraphs_links_and_bold() -> None:
    text = '<b>防汛通知</b>\n\n请各单位&amp;各部门查看<a href="https://gov.example.cn/n(1)">通知全文</a>。'
    (wecom,) = announcement_payloads(RobotKind.WECOM, text)
    assert wecom["markdown"]["content"] == (
        "**📢 公告**\n\n**防汛通知**\n\n请各单位&各部门查看[通知全文](https://gov.example.cn/n%281%29)。"
    )
    (feishu,) = announcement_payloads(RobotKind.FEISHU, text)
    lines = feishu["content"]["post"]["zh_cn"]["content"]
    assert lines[0] == [{"tag": "text", "text": "防汛通知", "style": ["bold"]}]
    assert lines[2][1] == {"tag": "a", "text": "通知全文", "href": "https://gov.example.cn/n(1)"}
