"""Parse a plain-text dump of a news page (what "save as text" or a copy gives) into an `Article`.

A dump reads top to bottom: a bar of links and hotlines, the title, a 来源/date line, the body,
the editor line, then the footer (follow-us links, 版权与免责声明 and its numbered clauses).
"""

from __future__ import annotations

import re
from datetime import tzinfo

from ingest._article import Article
from ingest._fields import (
    SHANGHAI,
    find_authors,
    find_contacts,
    find_date,
    find_editor,
    find_source,
    is_contact_line,
)
from ingest.errors import NotAnArticle

__all__ = ["parse_text_dump"]

_SPACES = " \t\u00a0\u3000\r"
_META = re.compile(r"^(?:来源|来自|稿源|发布时间|时间|日期|作者|发布日期|信息来源)\s*[:：]")
_EDITOR_LINE = re.compile(r"^[【\[]?(?:责任编辑|责编|编辑|编审|审核)\s*[:：]")
# Where the article ends: footers, share bars, related links, copyright notices.
_FOOTER = re.compile(
    r"^(?:[•·●▪■◆]|版权(?:与免责)?声明|.{0,12}版权与免责声明|免责声明|相关新闻|相关阅读|相关链接|延伸阅读"
    r"|推荐阅读|热点推荐|上一篇|下一篇|分享到|扫一扫|扫描二维码|【?打印|【?关闭|返回顶部|Copyright|©|网站地图"
    r"|关于我们|联系我们|主办单位|备案号|ICP)",
    re.IGNORECASE,
)
_MAX_TITLE = 80


def _strip(line: str) -> str:
    return line.strip(_SPACES)


def _find_title(lines: list[str], meta: int | None) -> int | None:
    """Return the index of the title line: the last real line before the meta line, or the first."""
    candidates = range(meta - 1, -1, -1) if meta is not None else range(len(lines))
    for i in candidates:
        line = lines[i]
        if line and len(line) <= _MAX_TITLE and not is_contact_line(line) and not _FOOTER.match(line):
            return i
    return None


def parse_text_dump(text: str, *, url: str | None = None, tz: tzinfo = SHANGHAI) -> Article:
    """Return the article a text dump holds.

    Raises:
        NotAnArticle: the text holds no body.
    """
    lines = [_strip(line) for line in text.splitlines()]
    meta = next((i for i, line in enumerate(lines) if _META.match(line)), None)
    title_at = _find_title(lines, meta)
    # A dump without a headline line (one long paragraph, say) is all body.
    title = lines[title_at] if title_at is not None else ""
    first = title_at if title_at is not None else -1

    # The meta block may run over several lines (来源 / 作者 / 时间); the body starts after it.
    start = (meta if meta is not None else first) + 1
    while start < len(lines) and (not lines[start] or _META.match(lines[start])):
        start += 1
    meta_text = "\n".join(lines[first + 1 : start])

    body: list[str] = []
    end = len(lines)
    for i in range(start, len(lines)):
        line = lines[i]
        if _EDITOR_LINE.match(line) or _FOOTER.match(line):
            end = i
            break
        if line and not is_contact_line(line):
            body.append(line)
    if not body:
        raise NotAnArticle("no article body found after the title")

    outside = "\n".join(lines[: max(first, 0)] + lines[end:])
    return Article(
        title=title,
        paragraphs=body,
        url=url,
        source=find_source(meta_text) or find_source(outside),
        published_at=find_date(meta_text, tz),
        authors=find_authors(meta_text) or find_authors(body[0]),
        editor=find_editor("\n".join(lines[end:])) or find_editor(meta_text),
        contacts=find_contacts(outside),
    )
