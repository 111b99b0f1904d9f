"""Tell an article from a page that only looks like one: an index, an issue list, site furniture.

The extractor returns the best text block a page has, and a page with no article still has one:
the footer of a journal's issue list (建议以IE8.0以上版本浏览器浏览本页面京ICP备…), a column of
headlines, a navigation bar. The verdict reads the extracted body as a Chinese news reader
would, in order:

1. Site furniture goes first: short lines with ICP备, 版权所有, Copyright, browser and resolution
   advice, 加载中/请稍候, 主办/承办 credits, breadcrumbs and menus, hotline bars. A body of
   nothing else is no article.
2. A body with no real sentence (ending in 。！？, or an unterminated line of prose, or a line
   leading into a list with ：) is no article: headlines and names, not news.
3. A body that is mostly short headlines with a sentence or two among them, and no line leading
   into them, is an index page.

Everything else is an article: a three-sentence local story and a one-sentence notice pass.
Only the first `_MAX_CHARS` of a body are read, so a huge one costs no more than that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest._article import Article
from ingest._fields import is_contact_line

__all__ = ["Verdict", "verdict"]

# A body this long has shown what it is; the rest cannot make it less of an article.
_MAX_CHARS = 200_000
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")

# Furniture is short: a long line naming 版权所有 or 浏览器 is prose about them.
_MAX_FURNITURE = 100
_FURNITURE = re.compile(
    r"ICP\s*[备证]|公网安备|版权所有|Copyright|©|\([Cc]\)\s*\d{4}"
    r"|(?:建议|推荐|请)(?:您)?(?:使用|用|以|采用).{0,20}(?:浏览器|分辨率)|(?:浏览器|分辨率).{0,12}(?:浏览|访问)"
    r"|加载中|请稍候|请稍等|刷新本?页面"
    r"|(?:^|\s)(?:主办|承办|协办|技术支持|运维|维护)(?:单位)?\s*[:：]|主办\s+\S.{0,40}承办(?:\s|$)"
    r"|网站标识码|网站地图|设为首页|加入收藏|联系我们|关于我们|返回顶部|无障碍(?:浏览|阅读)|长者模式"
    r"|^(?:当前位置|您(?:现在)?的?(?:当前)?位置)\s*[:：]",
    re.IGNORECASE,
)
# A menu or breadcrumb: three or more words of up to 8 characters between separators.
_SEPARATOR = r"[\s|｜丨·•>»/\\]"
_NAV = re.compile(rf"^(?:[^\s|｜丨·•>»/\\]{{1,8}}{_SEPARATOR}+){{2,}}[^\s|｜丨·•>»/\\]{{1,8}}$")

# A sentence is a run ending in 。！？ with at least this many Han characters (特此通知。 is not one).
_SENTENCE_HAN = 6
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]+")
_LEAD_IN = re.compile(r"[:：]\s*$")  # 现将有关事项通知如下：
# Prose that runs on past a headline's length without an end mark (a caption, a dump without 。).
_RUN_ON_CHARS = 40
_CLAUSE = re.compile(r"[，,；;]")

# A headline of a list: short, mostly Han, no end mark, often with its date after it.
_MAX_TITLE = 40
_TITLE_HAN = 8
_TRAILING_DATE = re.compile(r"[\s\[【(（]*(?:(?:19|20)\d\d[-/.年])?\d{1,2}[-/.月]\d{1,2}日?[\]】)）]*$")
_END_MARK = re.compile(r"[。！？!?；;：:…,，、]\s*[”」’』）)]*$")
# An index: this many headlines, carrying this many times the Han characters of its sentences.
_INDEX_TITLES = 8
_INDEX_MASS = 4
_INDEX_SENTENCES = 2


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an extracted page is an article, and why."""

    is_article: bool
    reason: str


def verdict(article: Article) -> Verdict:
    """Return whether the article's body is news text rather than an index or site furniture."""
    lines = _lines(article.paragraphs)
    furniture = [line for line in lines if _is_furniture(line)]
    body = [line for line in lines if not _is_furniture(line) and _han(line)]
    if not body:
        if furniture:
            more = f" and {_count(len(furniture) - 1, 'more line')}" if len(furniture) > 1 else ""
            return Verdict(False, f"only site furniture: {_quote(furniture[0])}{more}")
        return Verdict(False, "no Chinese text")
    han = sum(_han(line) for line in body)
    sentences = [s for line in body for s in _sentences(line)]
    lead_ins = sum(1 for line in body if _LEAD_IN.search(line) and _han(line) >= _SENTENCE_HAN)
    if not sentences and not lead_ins:
        return Verdict(False, f"no sentence in {_count(len(body), 'line')} ({han} Han characters): {_quote(body[0])}")
    titles = [line for line in body if _is_title(line)]
    title_han = sum(_han(t) for t in titles)
    sentence_han = sum(_han(s) for s in sentences)
    if (
        not lead_ins
        and len(sentences) <= _INDEX_SENTENCES
        and len(titles) >= _INDEX_TITLES
        and title_han >= _INDEX_MASS * sentence_han
    ):
        headlines = f"{len(titles)} of {_count(len(body), 'line')} are headlines"
        return Verdict(False, f"index: {headlines}, {_count(len(sentences), 'sentence')}")
    return Verdict(True, f"{_count(len(sentences), 'sentence')}, {han} Han characters")


def _lines(paragraphs: list[str]) -> list[str]:
    """Return the body's non-empty lines, whitespace collapsed, up to `_MAX_CHARS` in all."""
    lines: list[str] = []
    budget = _MAX_CHARS
    for paragraph in paragraphs:
        for raw in paragraph[:budget].splitlines():
            line = _SPACE.sub(" ", raw).strip()
            if line:
                lines.append(line)
        budget -= len(paragraph)
        if budget <= 0:
            break
    return lines


def _han(text: str) -> int:
    return len(_HAN.findall(text))


def _is_furniture(line: str) -> bool:
    """Tell whether a line is the site's rather than the article's: credits, notices, menus."""
    if len(line) > _MAX_FURNITURE:
        return False
    return bool(_FURNITURE.search(line) or _NAV.match(line) or is_contact_line(line))


def _sentences(line: str) -> list[str]:
    """Return the line's real sentences, an unterminated run of prose at its end included."""
    found = [s for s in _SENTENCE.findall(line) if _han(s) >= _SENTENCE_HAN]
    tail = _SENTENCE.sub("", line)
    if len(tail) > _RUN_ON_CHARS and _CLAUSE.search(tail) and not _LEAD_IN.search(tail):
        found.append(tail)
    return found


def _is_title(line: str) -> bool:
    """Tell whether a line reads as a headline in a list: short, Han, no end mark."""
    text = _TRAILING_DATE.sub("", line).strip()
    han = _han(text)
    return (
        len(text) <= _MAX_TITLE
        and han >= _TITLE_HAN
        and han * 10 >= len(text.replace(" ", "")) * 6
        and not _END_MARK.search(text)
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _quote(line: str) -> str:
    return line if len(line) <= 40 else line[:40] + "…"
