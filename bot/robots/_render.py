"""Digests and announcements as each app's rich message: WeCom and DingTalk markdown, a Feishu post.

A message is built as blocks of lines of segments (text, a link, bold), then rendered per app
and packed into parts, in order, each under the app's size limit; a block too long for a part of
its own is cut, with an "…". Pure functions: the same items give the same payloads.

Neither WeCom's nor DingTalk's markdown documents an escape, so the characters that would start
markup in article text are shown as their full-width forms, which Chinese text uses anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any

from bot.config import RobotKind
from bot.render import DigestItem
from bot.robots._platforms import PLATFORMS

__all__ = ["JSON", "announcement_payloads", "body", "digest_payloads", "measure"]

JSON = dict[str, Any]

_KEY_SENTENCES = 2  # as many as the Telegram digest shows
_TITLE = 300  # characters of an article title: a page's <title> may hold its whole text
_SIGNATURE_ROOM = 100  # bytes of a Feishu body left for the timestamp and sign added at sending
_MARKUP = str.maketrans({"[": "［", "]": "］", "*": "＊", "_": "＿", "`": "｀", "<": "＜", ">": "＞", "#": "＃",
                         "~": "～", "\\": "＼", "\n": " "})  # fmt: skip
_URL_MARKUP = str.maketrans({"(": "%28", ")": "%29", " ": "%20"})


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a line: plain, bold, or a link."""

    text: str
    href: str | None = None
    bold: bool = False


Line = tuple[Segment, ...]
Block = tuple[Line, ...]


def body(payload: JSON) -> bytes:
    """Return the request body of a payload, as it is sent and measured."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def measure(kind: RobotKind, payload: JSON) -> int:
    """Return the bytes the app's limit counts: WeCom the markdown content, the others the body."""
    if kind is RobotKind.WECOM:
        return len(payload["markdown"]["content"].encode())
    return len(body(payload)) + (_SIGNATURE_ROOM if kind is RobotKind.FEISHU else 0)


def _md(text: str) -> str:
    return text.translate(_MARKUP)


def _md_segment(segment: Segment) -> str:
    if segment.href:
        return f"[{_md(segment.text)}]({segment.href.translate(_URL_MARKUP)})"
    return f"**{_md(segment.text)}**" if segment.bold else _md(segment.text)


def _markdown(blocks: Sequence[Block], line_break: str) -> str:
    return "\n\n".join(line_break.join("".join(_md_segment(s) for s in line) for line in block) for block in blocks)


def _feishu_line(line: Line) -> list[JSON]:
    elements: list[JSON] = []
    for s in line:
        element: JSON = {"tag": "a", "text": s.text, "href": s.href} if s.href else {"tag": "text", "text": s.text}
        elements.append(element | ({"style": ["bold"]} if s.bold else {}))
    return elements


def _payload(kind: RobotKind, title: str, blocks: Sequence[Block]) -> JSON:
    """Return one message of `title` and `blocks` in the app's own format."""
    if kind is RobotKind.WECOM:
        return {
            "msgtype": "markdown",
            "markdown": {"content": _markdown([((Segment(title, bold=True),),), *blocks], "\n")},
        }
    if kind is RobotKind.DINGTALK:
        # The title is what the notification shows; DingTalk breaks a line only at two spaces before it.
        text = f"### {_md(title)}\n\n" + _markdown(blocks, "  \n")
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    content: list[list[JSON]] = []
    for n, block in enumerate(blocks):
        content += ([[{"tag": "text", "text": ""}]] if n else []) + [_feishu_line(line) for line in block]
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": content}}}}


def _truncated(block: Block, keep: int) -> Block:
    """Return the block with only its first `keep` characters of text, and an "…"."""
    lines: list[Line] = []
    for line in block:
        kept: list[Segment] = []
        for segment in line:
            if keep <= 0:
                break
            kept.append(replace(segment, text=segment.text[:keep]))
            keep -= len(segment.text)
        if kept:
            lines.append(tuple(kept))
        if keep <= 0:
            break
    last = lines[-1] if lines else ()
    return (*lines[:-1], (*last, Segment("…")))


def _cut(block: Block, fits: Callable[[Block], bool]) -> Block:
    """Return the longest head of the block that fits (found by bisection: each test renders a message)."""
    low, high = 0, sum(len(s.text) for line in block for s in line)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(_truncated(block, middle)):
            low = middle
        else:
            high = middle - 1
    return _truncated(block, low)


def _parts(kind: RobotKind, title: str, blocks: Sequence[Block]) -> list[JSON]:
    """Pack blocks into messages under the app's limit, in order; each after the first says it goes on."""
    limit = PLATFORMS[kind].max_bytes
    continued = f"{title}（续）"
    packed: list[list[Block]] = []
    current: list[Block] = []

    def fits(candidate: Sequence[Block]) -> bool:
        return measure(kind, _payload(kind, continued if packed else title, candidate)) <= limit

    for block in blocks:
        if fits([*current, block]):
            current.append(block)
            continue
        if current:
            packed.append(current)
            current = []
        current.append(block if fits([block]) else _cut(block, lambda b: fits([b])))
    packed.append(current)
    return [_payload(kind, continued if n else title, part) for n, part in enumerate(packed)]


def _short(title: str) -> str:
    title = title or "（无标题）"
    return title if len(title) <= _TITLE else title[: _TITLE - 1] + "…"


def _item(item: DigestItem) -> Block:
    article = item.article
    web = article.url.startswith(("http://", "https://"))
    head: list[Segment] = [Segment(_short(article.title), href=article.url if web else None, bold=not web)]
    if article.source_name and article.source_name != item.source:  # the outlet the page credits
        head.append(Segment(f"（{article.source_name}）"))
    sentences = item.summary.key_sentences[:_KEY_SENTENCES] if item.summary else []
    return (tuple(head), *((Segment(s),) for s in sentences))


def digest_payloads(kind: RobotKind, items: Sequence[DigestItem], date: str, *, more: int = 0) -> list[JSON]:
    """Return a daily digest as the robot's messages: the articles grouped by source, each linked with
    its key sentences, as the Telegram digest shows them; none when there is nothing to show."""
    if not items:
        return []
    groups: dict[str, list[Block]] = {}
    for item in items:
        groups.setdefault(item.source, []).append(_item(item))
    blocks: list[Block] = []
    for source, entries in groups.items():
        blocks += [((Segment(f"【{source}】", bold=True),),), *entries]
    if more:
        blocks.append(((Segment(f"还有 {more} 篇，将在下一期摘要中送达。"),),))
    return _parts(kind, f"每日摘要 · {date}", blocks)


class _Segments(HTMLParser):
    """Telegram HTML as lines of segments: links and bold kept, other tags dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[list[Segment]] = [[]]
        self._href: str | None = None
        self._bold = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
        elif tag in ("b", "strong"):
            self._bold += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None
        elif tag in ("b", "strong"):
            self._bold = max(0, self._bold - 1)

    def handle_data(self, data: str) -> None:
        for n, piece in enumerate(data.split("\n")):
            if n:
                self.lines.append([])
            if piece:
                self.lines[-1].append(Segment(piece, href=self._href, bold=self._bold > 0))


def announcement_payloads(kind: RobotKind, text: str) -> list[JSON]:
    """Return an announcement (Telegram HTML, as /announce keeps it) as the robot's messages: a block
    a paragraph, its links and bold kept."""
    parser = _Segments()
    parser.feed(text)
    parser.close()
    blocks: list[Block] = []
    paragraph: list[Line] = []
    for line in [*parser.lines, []]:
        if line:
            paragraph.append(tuple(line))
        elif paragraph:
            blocks.append(tuple(paragraph))
            paragraph = []
    return _parts(kind, "📢 公告", blocks)
