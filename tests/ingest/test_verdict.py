"""The article verdict: index pages, issue lists, menus and furniture out; short real articles in."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from ingest import Article, NotAnArticle, Verdict, parse, verdict
from tests.conftest import DATA, SAMPLES

PAGES = DATA / "verdict"


def judge(path: Path) -> Verdict:
    """Return what ingest concludes of a saved page: the extractor's refusal counts as a verdict."""
    try:
        article = parse(path.read_bytes(), url=path.resolve().as_uri())
    except NotAnArticle as exc:
        return Verdict(False, f"extractor: {exc}")
    return verdict(article)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("icp-only.html", "only site furniture: 建议以IE8.0以上版本浏览器浏览本页面冀ICP备"),
        ("journal-issue.html", "extractor: no article text"),  # its titles are links: no text is left
        ("journal-issue.txt", "no sentence in 19 lines"),
        ("navigation.html", "extractor: no article text"),
        ("navigation.txt", "no sentence in 1 line"),
        ("news-index.txt", "index: 9 of 11 lines are headlines, 1 sentence"),
    ],
)
def test_pages_without_an_article_are_refused(name: str, reason: str) -> None:
    said = judge(PAGES / name)
    assert not said.is_article
    assert said.reason.startswith(reason)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("local-story.html", "3 sentences, "),
        ("notice.txt", "1 sentence, "),  # 特此通知。 is too short to count; the lead-in counts
    ],
)
def test_short_real_articles_pass(name: str, reason: str) -> None:
    said = judge(PAGES / name)
    assert said.is_article
    assert said.reason.startswith(reason)


@pytest.mark.parametrize("path", sorted(p for p in SAMPLES.iterdir() if p.suffix in {".html", ".txt"}))
def test_the_sample_articles_pass(path: Path) -> None:
    assert judge(path).is_article


def test_furniture_inside_an_article_does_not_sink_it() -> None:
    article = Article(
        title="中国“太空养鱼”项目进展顺利",
        paragraphs=[
            "调查问题加载中，请稍候。",
            "若长时间无响应，请刷新本页面",
            "19日上午，由中国科学院学部局、教育部基础教育司主办，中国科学院空间应用工程与技术中心承办的科学教育活动在北京启动。",
        ],
    )
    said = verdict(article)
    assert said.is_article
    assert said.reason.startswith("1 sentence, ")  # the notices are no sentences of its own


def test_a_list_led_in_by_a_sentence_is_an_article() -> None:
    names = [f"清河县第{n}中学附属实验小学教师" for n in "一二三四五六七八九十"]
    article = Article(title="2024年度优秀教师名单", paragraphs=["经研究，决定对以下10名同志予以表彰：", *names])
    assert verdict(article).is_article
    assert not verdict(Article(title="名单", paragraphs=names)).is_article


def test_one_unterminated_paragraph_of_prose_is_an_article() -> None:
    line = "5月13日，在河北省遵化市东新庄镇一家庭农场，无人驾驶农机在播种玉米，植保无人机在田间地头忙碌"
    assert verdict(Article(title="遵化：数字农机助力农业生产", paragraphs=[line])).is_article


@pytest.mark.parametrize(
    "paragraphs",
    [
        [],
        [""],
        ["   \n\u3000\n"],
        ["Hello, world. This page is in English."],
        ["\x00\x01\x02\ufffd\ufffd" * 50],
        ["".join(chr(random.Random(0).randrange(0x20, 0x2FFFF)) for _ in range(5000))],
    ],
)
def test_garbage_is_judged_without_crashing(paragraphs: list[str]) -> None:
    said = verdict(Article(title="", paragraphs=paragraphs))
    assert isinstance(said.is_article, bool)
    assert said.reason


def test_a_huge_body_is_judged_on_its_start_quickly() -> None:
    sentence = "城关镇组织社区工作人员为辖区独居老人免费安装了烟感报警器。"
    huge = Article(title="大", paragraphs=[sentence * 1000] * 1000)  # about 30 million characters
    started = time.perf_counter()
    assert verdict(huge).is_article
    assert time.perf_counter() - started < 2
    menu = Article(title="菜单", paragraphs=["首页 | 新闻 | 政务 | 服务"] * 1_000_000)
    assert not verdict(menu).is_article


def test_the_verdict_is_deterministic() -> None:
    article = parse((PAGES / "news-index.txt").read_bytes())
    assert len({verdict(article) for _ in range(3)}) == 1
