"""Extract an `Article` from the HTML of a Chinese news page.

The page is parsed by lxml with its limits on (no huge trees, recovery from broken markup, input
capped) and walked without recursion. Metadata comes from ``<meta>`` tags and JSON-LD; the
headline is the heading the document title names. The body is found by scoring text blocks:
prose (full-width sentence punctuation, few links) scores by its length, link lists and short
fragments score against; among the elements that hold the headline and the paragraph after it,
the one whose subtree sums highest holds the article. Inside it, Chinese-news furniture
(datelines, 责任编辑, share bars, 相关新闻, 版权声明, platform notices) is dropped. Byline, source,
editor and date rules come from `ingest._fields`, applied to the text between the headline and
the body and just after the body rather than to the whole page.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from ingest._article import Article, Author
from ingest._fields import (
    SHANGHAI,
    find_authors,
    find_contacts,
    find_date,
    find_editor,
    find_source,
)
from ingest.errors import NotAnArticle, ParseError

__all__ = ["extract_html"]

logger = logging.getLogger(__name__)

# Bigger pages are portals with a lot of inline script; the article is in the first few MB.
_MAX_CHARS = 4 * 1024 * 1024
# libxml2 stops reading a page at elements nested 256 deep; a page that goes past that is read
# again with its nesting capped here.
_MAX_DEPTH = 200
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)[^>]*>")
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)

_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "select",
    "textarea", "button", "input", "canvas", "video", "audio", "map", "head", "title",
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "div",
        "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Elements that are page furniture whatever they contain.
_FURNITURE_TAGS = frozenset({"nav", "aside", "footer"})

# Full-width marks only: labels and player chrome use ASCII ones ("480P,请稍候...").
_SENTENCE_MARKS = re.compile(r"[，。！？；]")
_NON_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
# Characters XML forbids: lxml parses them into the tree but refuses them when text is set.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# A short block that starts with one of these ends the article: what follows is furniture.
_END_MARKERS = re.compile(
    r"^[\[【（(]?\s*(?:责任编辑|责编|编辑\s*[:：]|.{0,16}?(?:版权|免责|侵权)(?:声明|公告)|版权所有"
    r"|Copyright|©|网友评论|我要评论|发表评论|特别声明|声明\s*[:：]|上一篇|下一篇)",
    re.IGNORECASE,
)
# A short block that starts with one of these heads a list of links or a share bar: drop it.
_SECTION_MARKERS = re.compile(
    r"^[\[【（(]?\s*(?:相关新闻|相关阅读|相关链接|相关报道|相关文章|相关稿件|延伸阅读|推荐阅读|热点推荐|热门推荐"
    r"|猜你喜欢|更多精彩|精彩推荐|分享到|分享至|扫一扫|扫描二维码|打印本页|关闭窗口|返回顶部)"
)
# A short block matching one of these is furniture wherever it stands.
_FURNITURE_LINE = re.compile(
    r"^(?:[\[【（(]?\s*(?:字号|字体)\s*[:：]?.{0,12}$|.{0,6}(?:打印|关闭|收藏|分享)[】\]]?$"
    r"|原标题[:：]|点击(?:进入|查看|播放)|\(?图\)?$|来源\s*[:：]|作者\s*[:：]|发布(?:时间|日期)\s*[:：]"
    r"|(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?\s*$)",
    re.IGNORECASE,
)
# The line under a headline: a date with a time or with 来源/作者…, and no sentence in it.
_DATELINE = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}.*?"
    r"(?:\d{1,2}[:：]\d{2}|来源|稿源|作者|编辑|记者|发布|浏览|点击|阅读)"
    r"|(?:来源|稿源|作者|发布时间|时间)\s*[:：].*?(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}"
)
_MAX_DATELINE = 80
# Blocks of any length that are notices rather than text: the article ends at the first.
_NOTICE = re.compile(r"仅提供信息存储(?:空间)?服务|未经.{0,12}(?:授权|许可).{0,8}(?:不得|请勿|禁止|严禁)转载")
_SHORT = 40  # blocks up to this long may be furniture; longer ones are prose
_MAX_TITLE = 120
_MAX_FRAGMENT_RUN = 3  # this many non-prose blocks in a row are furniture, not subheadings
_LEAD_SCORE = 30  # a block scoring this much after the headline starts the article
_HEADER_BLOCKS = 8  # without a headline, the byline area is this many blocks before the body
_ABOVE_BLOCKS = 3  # a date may stand this many blocks above the headline
_FOOTER_BLOCKS = 12  # 责任编辑 and 来源 lines follow the body within this many blocks
_CLOSING_PAREN = re.compile(r"[（(]([^（）()]{2,40})[)）]\s*$")
# Names in a closing parenthesis without a role: （常书香 马丹阳）. Two or more, so that
# （新华社） or （完） is not read as a name; institutions end in 社, 网, 报 …, roles in 员, 者.
_NAME_LIST = re.compile(r"^\s*[\u4e00-\u9fff]{2,4}(?:[\s、，,]+[\u4e00-\u9fff]{2,4}){1,3}\s*$")
_NOT_A_NAME = re.compile(r"(?:社|网|报|台|站|部|局|委|会|院|厅|处|办|中心|公司|集团|电视|员|者)$")

_TITLE_SEPARATOR = re.compile(r"\s*(?:_|\||｜|丨|--|\s-\s|-(?=[^-]{1,12}$)|—(?=[^—]{1,12}$))\s*")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[-/_]?(\d\d)[-/_]?(\d\d)(?=[/_.-]|$)")

_DATE_META = (
    "article:published_time", "og:article:published_time", "og:release_date", "pubdate",
    "publishdate", "publish_date", "publish-date", "publishtime", "publication_date",
    "datepublished", "dc.date.issued", "dc.date", "dcterms.created", "sailthru.date",
    "weibo:article:create_at", "firstpublishedtime", "releasedate", "createdate", "date",
)  # fmt: skip
_TITLE_META = ("og:title", "twitter:title", "articletitle", "headline", "title")
_IMAGE_ATTRS = ("data-original", "data-src", "data-lazy-src", "src")


@dataclass(eq=False, slots=True)
class _Block:
    """A run of text between block boundaries: a paragraph, a cell, a line ended by <br>."""

    element: etree._Element
    text: str
    link_chars: int
    index: int
    score: float = 0.0

    @property
    def is_prose(self) -> bool:
        """Tell whether the block reads like article text rather than a link or a label."""
        own = len(self.text) - self.link_chars
        if self.link_chars * 2 > len(self.text):
            return False
        marks = len(_SENTENCE_MARKS.findall(self.text))
        return (own >= 10 and marks >= 1) or own >= 40


@dataclass(slots=True)
class _Body:
    """The article's paragraphs, and the date/来源 lines found among them."""

    paragraphs: list[_Block]
    datelines: list[_Block]


@dataclass(slots=True)
class _Page:
    """What the extractor learns about a page before it picks the body."""

    meta: dict[str, str] = field(default_factory=dict)
    ld: list[dict[str, object]] = field(default_factory=list)
    doc_title: str = ""


def extract_html(html: str, *, url: str | None = None, tz: tzinfo = SHANGHAI) -> Article:
    """Return the article in a news page's HTML.

    Raises:
        ParseError: the page has no markup.
        NotAnArticle: it has no article text.
    """
    root = _parse(html)
    page = _read_head(root)
    for element in list(root.iter(*_DROP_TAGS)):
        _drop(element)
    blocks = list(_blocks(root))
    headline = _find_headline(blocks, page)
    container = _best_container(blocks, headline)
    if container is None:
        raise NotAnArticle("no article text in the page")
    title = _title(headline, page)
    body = _body_blocks(blocks, container, title)
    if not body.paragraphs:
        raise NotAnArticle("no article text in the page")
    first, last = body.paragraphs[0].index, body.paragraphs[-1].index

    # Bylines, 来源 and dates sit between the headline and the first paragraph (a few blocks
    # up when there is no headline), now and then just above the headline; 编辑 follows the
    # body. Link bars are skipped: "记者博客" there is a menu, not a byline.
    start = headline.index + 1 if headline else max(first - _HEADER_BLOCKS, 0)
    header = _text(blocks[start:first])
    above = _text(blocks[max(headline.index - _ABOVE_BLOCKS, 0) : headline.index]) if headline else ""
    footer = _text(blocks[last + 1 : last + 1 + _FOOTER_BLOCKS])
    paragraphs = [b.text for b in body.paragraphs]
    # Bylines also open the first paragraph (本报讯（记者 X）), close the last (…。（记者 X）)
    # or stand after it as a short line (新京报记者 X 报道).
    closing = [m.group(1) for p in paragraphs[-2:] if (m := _CLOSING_PAREN.search(p))]
    signature = [p for p in paragraphs[-1:] if len(p) <= _SHORT]
    edges = "\n".join(paragraphs[:2] + closing + signature)
    outside = _text(b for b in blocks if b.index < first or b.index > last)
    return Article(
        title=title,
        paragraphs=paragraphs,
        url=url,
        source=find_source(header) or find_source(footer) or _meta_source(page),
        published_at=_published_at(page, [header, above, _text(body.datelines)], url, tz),
        authors=find_authors(header) or find_authors(edges) or _closing_names(closing) or _ld_authors(page),
        editor=find_editor(footer) or find_editor(paragraphs[-1]) or find_editor(header),
        contacts=find_contacts(outside),
        images=_images(container, url),
    )


def _text(blocks: Iterable[_Block]) -> str:
    """Return the lines of the blocks that are not mostly links."""
    return "\n".join(b.text for b in blocks if b.link_chars * 2 <= len(b.text))


# ── parsing ─────────────────────────────────────────────────────────────────────────────


def _parse(html: str) -> lxml.html.HtmlElement:
    """Return the document tree, bounded in size and depth by lxml's safe defaults.

    A page nested past libxml2's depth limit is read again with its nesting capped.
    """
    if len(html) > _MAX_CHARS:
        logger.info("page of %d characters cut to %d", len(html), _MAX_CHARS)
        html = html[:_MAX_CHARS]
    # lxml refuses str input that declares a byte encoding; the text is already decoded.
    html = _NOT_XML.sub("", re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    root, errors = _document(html)
    if any("Excessive depth" in error.message for error in errors):
        logger.info("page nested too deep for the parser; reading it again with its nesting capped")
        root, _ = _document(_flatten(html))
    return root


def _document(html: str) -> tuple[lxml.html.HtmlElement, etree._ListErrorLog]:
    """Return the tree lxml parses from html, with the errors it recovered from."""
    parser = lxml.html.HTMLParser(recover=True, huge_tree=False, remove_comments=True, remove_pis=True, no_network=True)
    try:
        return lxml.html.document_fromstring(html, parser=parser), parser.error_log
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"no HTML document: {exc}") from exc


def _flatten(html: str) -> str:
    """Return html with the elements that would nest deeper than `_MAX_DEPTH` made siblings.

    Browsers cap nesting so too; libxml2 instead drops everything after the first element
    nested too deep, the article included.
    """
    open_tags: list[str] = []
    closed_early: Counter[str] = Counter()

    def keep(match: re.Match[str]) -> str:
        whole, end, name = match.group(0, 1, 2)
        tag = name.lower()
        if tag in _VOID_TAGS or whole.endswith("/>"):
            return whole
        if not end:
            if len(open_tags) < _MAX_DEPTH:
                open_tags.append(tag)
                return whole
            innermost = open_tags.pop()
            closed_early[innermost] += 1
            open_tags.append(tag)
            return f"</{innermost}>{whole}"
        if closed_early[tag]:  # the end of an element closed above already
            closed_early[tag] -= 1
            return ""
        if tag in open_tags:  # an end tag closes the elements left open inside it too
            del open_tags[len(open_tags) - 1 - open_tags[::-1].index(tag) :]
        return whole

    return _TAG.sub(keep, html)


def _drop(element: etree._Element) -> None:
    """Remove an element and its content but keep the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _clean(text: str) -> str:
    """Return text with runs of whitespace (any width) collapsed to one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _read_head(root: lxml.html.HtmlElement) -> _Page:
    """Return the page's <meta> values, JSON-LD objects and document title."""
    page = _Page()
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            page.meta.setdefault(key.strip().lower(), _clean(content))
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            page.ld.extend(_ld_objects(script.text))
    title = root.find(".//title")
    if title is not None:
        page.doc_title = _clean(title.text_content())
    return page


def _ld_objects(text: str) -> Iterator[dict[str, object]]:
    """Yield the JSON-LD objects of one script, flattening lists and @graph."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            graph = item.get("@graph")
            if isinstance(graph, list):
                pending.extend(graph)
            yield item


# ── blocks and the body ─────────────────────────────────────────────────────────────────


def _blocks(root: etree._Element) -> Iterator[_Block]:
    """Yield the text blocks of the page in document order, without recursion."""
    index = 0
    # Per open block element: its text so far and how much of it is link text.
    stack: list[tuple[etree._Element, list[str], list[int]]] = []
    link_depth = 0

    def flush() -> Iterator[_Block]:
        nonlocal index
        element, parts, links = stack[-1]
        if not parts:
            return  # most elements of a page hold no text of their own
        text = _clean("".join(parts))
        if text:
            yield _Block(element, text, min(links[0], len(text)), index)
            index += 1
        parts.clear()
        links[0] = 0

    def add(text: str | None) -> None:
        if text and stack:
            stack[-1][1].append(text)
            if link_depth:
                stack[-1][2][0] += len(_clean(text))

    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS:
                if stack:
                    yield from flush()
                stack.append((element, [], [0]))
            elif tag == "br" and stack:
                yield from flush()
            elif tag == "a":
                link_depth += 1
            add(element.text)
        else:
            if tag in _BLOCK_TAGS:
                yield from flush()
                stack.pop()
            elif tag == "a":
                link_depth -= 1
            add(element.tail)


def _score(block: _Block) -> float:
    """Return how much a block speaks for its container holding the article."""
    if block.is_prose:
        return len(block.text) - 2 * block.link_chars
    return -0.5 * len(block.text)


def _best_container(blocks: list[_Block], headline: _Block | None) -> etree._Element | None:
    """Return the element whose blocks, the headline aside, sum to the highest score.

    With a headline, only the smallest element holding it and the prose that follows it competes,
    with what it contains: teaser streams and comment threads elsewhere on the page can
    out-score a short article, but they do not sit with its headline.
    """
    totals: dict[etree._Element, float] = {}
    for block in blocks:
        if block is headline:
            continue
        block.score = _score(block)
        element = block.element
        while element is not None:
            totals[element] = totals.get(element, 0.0) + block.score
            element = element.getparent()
    if not totals:
        return None
    scope = _headline_scope(blocks, headline)
    if scope is not None:
        totals = {e: s for e, s in totals.items() if e is scope or scope in e.iterancestors()}
    best = max(totals.items(), key=lambda item: (item[1], _depth(item[0])))
    return best[0] if best[1] > 0 else None


def _headline_scope(blocks: list[_Block], headline: _Block | None) -> etree._Element | None:
    """Return the smallest element holding the headline and the first paragraph after it.

    The first paragraph is preferably a <p> or one among siblings that read as prose too, so
    that a subtitle or a summary cell beside the headline does not stand for the body.
    """
    if headline is None:
        return None
    after = [b for b in blocks[headline.index + 1 :] if b.score >= _LEAD_SCORE and not _FURNITURE_LINE.match(b.text)]
    if not after:
        return None
    prose_children = Counter(b.element.getparent() for b in blocks if b.score > 0)
    lead = next(
        (b for b in after if b.element.tag == "p" or prose_children[b.element.getparent()] >= 2),
        after[0],
    )
    ancestors = {headline.element, *headline.element.iterancestors()}
    element: etree._Element | None = lead.element
    while element is not None and element not in ancestors:
        element = element.getparent()
    return element


def _depth(element: etree._Element) -> int:
    """Return how many ancestors an element has."""
    return sum(1 for _ in element.iterancestors())


def _body_blocks(blocks: list[_Block], container: etree._Element, title: str) -> _Body:
    """Return the article's paragraphs in the container, and the datelines among them."""
    title_key = _norm(title)
    inside = [
        b
        for b in blocks
        if (b.element is container or container in b.element.iterancestors())
        and (len(b.text) > _MAX_TITLE or _norm(b.text) != title_key)
        and not _is_furniture_element(b.element, container)
    ]
    kept: list[_Block] = []
    datelines: list[_Block] = []
    for block in inside:
        short = len(block.text) <= _SHORT
        if (short and _END_MARKERS.match(block.text)) or _NOTICE.search(block.text):
            if any(k.is_prose for k in kept):
                break
            continue
        if block.link_chars * 2 > len(block.text):
            continue
        if _is_dateline(block.text):
            datelines.append(block)
        elif not (short and _is_furniture_line(block.text)):
            kept.append(block)
    return _Body(_drop_fragment_runs(kept), datelines)


def _is_furniture_line(text: str) -> bool:
    """Tell whether a short block is a label, a share bar or a section heading of links."""
    return bool(_FURNITURE_LINE.match(text) or _SECTION_MARKERS.match(text) or _END_MARKERS.match(text))


def _is_dateline(text: str) -> bool:
    """Tell whether a block is the date/来源 line that heads an article, not a sentence."""
    return len(text) <= _MAX_DATELINE and "。" not in text and bool(_DATELINE.search(text))


def _drop_fragment_runs(blocks: list[_Block]) -> list[_Block]:
    """Return the blocks without the runs of fragments that are not the article's.

    Everything before the first paragraph goes, and after the last only a few siblings of the
    paragraphs stay (特此通告。 and a signature). Between paragraphs, a fragment stays when it
    stands alone (a subheading, a caption) or is a sibling of the paragraphs (a list written as
    <p> lines); runs elsewhere are player controls, tag clouds and labels.
    """
    paragraph_parents = {b.element.getparent() for b in blocks if b.is_prose}
    kept: list[_Block] = []
    run: list[_Block] = []
    for block in blocks:
        if not block.is_prose:
            run.append(block)
            continue
        if kept:
            if len(run) < _MAX_FRAGMENT_RUN:
                kept.extend(run)
            else:
                kept.extend(b for b in run if b.element.getparent() in paragraph_parents)
        run = []
        kept.append(block)
    if kept and len(run) < _MAX_FRAGMENT_RUN:
        kept.extend(itertools.takewhile(lambda b: b.element.getparent() in paragraph_parents, run))
    return kept


def _is_furniture_element(element: etree._Element, container: etree._Element) -> bool:
    """Tell whether an element sits in a <nav>, <aside> or <footer> below the container."""
    while element is not None and element is not container:
        if element.tag in _FURNITURE_TAGS:
            return True
        element = element.getparent()
    return False


# ── title ───────────────────────────────────────────────────────────────────────────────


def _norm(text: str) -> str:
    """Return text reduced for comparison: NFKC, letters and digits only."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text))


def _find_headline(blocks: list[_Block], page: _Page) -> _Block | None:
    """Return the block that best matches the document title, og:title or JSON-LD headline."""
    references = [_norm(page.doc_title)] + [_norm(page.meta[key]) for key in _TITLE_META if key in page.meta]
    references += [_norm(str(o["headline"])) for o in page.ld if o.get("headline")]
    references = [r for r in references if r]
    best: tuple[float, int, _Block] | None = None
    for block in blocks:
        if len(block.text) > _MAX_TITLE or block.link_chars * 2 > len(block.text):
            continue
        text = _norm(block.text)
        if len(text) < 4:
            continue
        match = max((_overlap(text, ref) for ref in references), default=0.0)
        if match < 0.6:
            continue
        weight = _heading_weight(block.element)
        # The earliest of equal candidates: a headline repeated in the body comes later.
        key = (match * weight, -block.index, block)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _heading_weight(element: etree._Element) -> float:
    """Return how much an element's tag or class says headline: <h1> most."""
    if element.tag == "h1":
        return 1.0
    marker = f"{element.get('class', '')} {element.get('id', '')}".lower()
    return 0.95 if element.tag in {"h2", "h3"} or "title" in marker else 0.9


def _overlap(text: str, reference: str) -> float:
    """Return how much of a reference title a heading covers, 0.0 when neither holds the other."""
    if text in reference:
        # A heading that opens the document title is the headline before its site suffix.
        coverage = len(text) / len(reference)
        return max(coverage, 0.8) if reference.startswith(text) and len(text) >= 6 else coverage
    if reference in text:
        return len(reference) / len(text)
    return 0.0


def _title(headline: _Block | None, page: _Page) -> str:
    """Return the headline's text, or the document title, without a site suffix."""
    if headline is None or _norm(headline.text) == _norm(page.doc_title):
        return _strip_site(headline.text if headline else page.doc_title)
    return headline.text


def _strip_site(title: str) -> str:
    """Return a document title without its site suffix (标题_荆州新闻网 → 标题)."""
    parts = _TITLE_SEPARATOR.split(title)
    return max(parts, key=len) if len(parts) > 1 else title


# ── metadata ────────────────────────────────────────────────────────────────────────────


def _published_at(page: _Page, texts: list[str], url: str | None, tz: tzinfo) -> datetime | None:
    """Return the publication time: meta tags, JSON-LD, the text by the headline, the URL.

    Times the page gives without an offset are read in `tz`.
    """
    values = [page.meta[key] for key in _DATE_META if key in page.meta]
    values += [str(o["datePublished"]) for o in page.ld if o.get("datePublished")]
    for value in values:
        when = _parse_when(value, tz)
        if when is not None:
            return when
    for text in texts:
        when = find_date(text, tz)
        if when is not None:
            return when
    if url:
        match = _URL_DATE.search(url)
        if match:
            try:
                return datetime(*(int(g) for g in match.groups()), tzinfo=tz)
            except ValueError:
                pass
    return None


def _parse_when(value: str, tz: tzinfo) -> datetime | None:
    """Return an aware datetime from an ISO value or a written date; in `tz` if zoneless."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return find_date(value, tz)
    if when.tzinfo is None:
        return when.replace(tzinfo=tz)
    return when.astimezone(tz)


def _meta_source(page: _Page) -> str | None:
    """Return the source named in <meta> (Chinese CMSs write ContentSource or source)."""
    for key in ("contentsource", "source"):
        if key in page.meta:
            return page.meta[key]
    return None


def _closing_names(closings: list[str]) -> list[Author]:
    """Return the people a role-less closing parenthesis names, as plain 作者 entries."""
    for text in closings:
        if _NAME_LIST.match(text):
            names = re.split(r"[\s、，,]+", text.strip())
            if not any(_NOT_A_NAME.search(name) for name in names):
                return [Author("作者", name) for name in names]
    return []


def _ld_authors(page: _Page) -> list[Author]:
    """Return the authors JSON-LD names, as plain 作者 entries."""
    authors: list[Author] = []
    for obj in page.ld:
        value = obj.get("author")
        for item in value if isinstance(value, list) else [value]:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and name.strip():
                authors.append(Author("作者", name.strip()))
    return authors


def _images(container: etree._Element, url: str | None) -> list[str]:
    """Return the article's image addresses, absolute when the page address is known."""
    images: list[str] = []
    for img in container.iter("img"):
        src = next((img.get(a) for a in _IMAGE_ATTRS if img.get(a)), None)
        if not src or src.startswith("data:"):
            continue
        src = urljoin(url, src.strip()) if url else src.strip()
        if src not in images:
            images.append(src)
    return images
