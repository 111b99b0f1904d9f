"""Digest items for the robots' tests: real renderer inputs, without a database."""

from __future__ import annotations

from bot.render import DigestItem
from summarizer import Summary
from tests.stored import Stored


def digest(count: int, *, sentence: str = "会议强调，要把防汛工作抓细抓实。") -> list[DigestItem]:
    """Return `count` articles from two sources, each with two key sentences."""
    return [
        DigestItem(
            Stored(n, f"https://news.example.cn/a/{n}.html", f"第{n}篇：市委常委会召开会议[扩大]", ["正文。"]),
            Summary.from_dict({"key_sentences": [f"{sentence}（{n}）", "会议指出，*要*守住底线。"]}),
            "荆州新闻网" if n % 2 else "人民网时政",
        )
        for n in range(1, count + 1)
    ]
