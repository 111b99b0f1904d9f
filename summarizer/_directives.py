"""Find the policy directives of a report: 要…, 必须…, 一是…二是…, in frames like 会议强调.

A directive prescribes action. We read each sentence, drop the frame that introduces it
(会议强调， / 习近平指出， / 会议号召，) and the numbering of enumerated items (一是 / 第一， /
（一）), split ；-separated items, and keep the units that open with a modal (要 / 必须 / 务必 /
应当), with a subject and a modal (县市要… / 各级党组织…要…), or with an imperative verb
(坚持… / 加快… / 推动…) when the context already prescribes (a frame, an enumeration or the
directive before it). Reports of what happened (会议听取…) and statements of significance
(…是…的根本保证) open with none of these and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer._sentences import split_sentences
from summarizer._summary import Directive

__all__ = ["find_directives"]

_HAN = r"\u4e00-\u9fff"
# Verbs that introduce reported speech; those in _PRESCRIBING make the context prescriptive.
_FRAME_VERBS = "强调|指出|要求|号召|部署|提出|希望|表示|认为|明确|决定|说|鼓励|倡议|提醒|建议"
_PRESCRIBING = frozenset(_FRAME_VERBS.split("|")) - {"表示", "认为", "说"}
# 会议强调， / 习近平在…时强调， / 李强说： — the speaker part holds no clause break.
_FRAME = re.compile(rf"^(?P<speaker>[^，,。；;：:！？!?]{{0,60}}?)(?P<verb>{_FRAME_VERBS})[，,：:]\s*")
_FRAME_SPEAKER_BAD = re.compile(r"[要是]$|^(?:要|必须|务必|应当|坚持|加快|推动|推进|加强|确保)")

_NUM = "一二三四五六七八九十"
_NUMBERING = re.compile(
    rf"^(?:[{_NUM}]{{1,3}}是|第[{_NUM}]{{1,3}}[，,、]|[（(][{_NUM}\d]{{1,3}}[)）]、?"
    rf"|\d{{1,2}}[、.．]\s*|[{_NUM}]{{1,3}}、|首先[，,]|其次[，,]|再次[，,]|最后[，,])"
)
_MODAL_OPENER = re.compile(
    r"^(?:一定要|必须要|务必要|都要|还要|更要|要|必须|务必|应当|应该|须|决不能|不能|坚决不)"
)
_HEAD_OPENER = re.compile(r"^(?:一定要|必须要|务必要|要|必须|务必|应当|应该)")
# A modal 要 — not 重要 / 主要 / 需要 / 要求 / 纲要 and the like.
_MODAL_INNER = re.compile(
    r"(?<![重主需只纲摘首必扼不显险紧简提])(?:一定要|都要|也要|还要|更要|必须|务必|应当|要(?![求素点件闻害领务职员道地是紧]))"
    r"|不能|决不能"
)
_IMPERATIVE = re.compile(
    "^(?:坚持|坚定|坚决|着力|着眼|加快|加大|加强|推动|推进|确保|深化|深入|健全|完善|强化|提高|提升|发挥"
    "|继续|进一步|全面|扎实|切实|积极|大力|持续|统筹|优化|落实|牢牢|牢固|树立|建立|构建|打造|抓好|抓住|做好"
    "|搞好|实施|促进|支持|鼓励|严格|严禁|不断|始终|精心|努力|把|以|围绕|聚焦|瞄准|紧扣|紧盯|紧紧|狠抓|弘扬"
    "|保持|稳定|巩固|扩大|引导|规范|增强|筑牢|守住|防范|防止|完善|循序渐进|因地制宜|稳妥|稳步|有序|认真"
    "|更加|更好|用好|办好|管好|守好|建设|培育|发展|培养|创新|改革|传承|保障|维护|贯彻|开展|注重|重视)"
)
# What happened, not what should: these never open a directive.
_REPORTED = re.compile(
    "^(?:会议|全会|大会)?(?:听取|审议|通过|出席|列席|主持|传达|学习了|观看|参加|宣读|通报|讨论|研究了"
    "|作了|作出|举行|召开|印发|发布|介绍|汇报)"
)
# Topic phrases that may stand before the subject and modal: 对…，全党要… / 在2020年前，…
_TOPIC = re.compile(r"^(?:对于?|在|围绕|按照|根据|为了?|就|针对|面对|从)")
_MAX_SUBJECT = 26
_CLAUSE = re.compile(r"[，,；;：:]")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence or an enumerated item, its frame and numbering removed."""

    text: str
    cue: str | None
    numbered: bool


def _strip_end(text: str) -> str:
    return text.rstrip("。！？!?；;，,…、 ").strip()


def _split_frame(sentence: str) -> tuple[str | None, str]:
    """Return (cue, rest): the reported-speech frame of a sentence, if any, and the rest."""
    m = _FRAME.match(sentence)
    if not m or _FRAME_SPEAKER_BAD.search(m.group("speaker")):
        return None, sentence
    return m.group("speaker") + m.group("verb"), sentence[m.end() :]


def _split_items(text: str) -> list[tuple[str, bool]]:
    """Split ；-separated items; a piece that opens no new item stays with the one before."""
    items: list[tuple[str, bool]] = []
    for piece in re.split(r"(?<=[；;])", text):
        piece = piece.strip()
        if not piece:
            continue
        numbered = bool(_NUMBERING.match(piece))
        body = _NUMBERING.sub("", piece, count=1) if numbered else piece
        if items and not numbered and not _MODAL_OPENER.match(body) and not _IMPERATIVE.match(body):
            prev, prev_numbered = items[-1]
            items[-1] = (prev + piece, prev_numbered)
        else:
            items.append((body, numbered))
    return items


def _units(paragraph: str) -> list[_Unit]:
    """Read a paragraph into units, carrying the last frame over to the sentences after it."""
    units: list[_Unit] = []
    cue: str | None = None
    for sentence in split_sentences(paragraph):
        frame, rest = _split_frame(sentence)
        if frame:
            cue = frame
        numbered_sentence = bool(_NUMBERING.match(rest))
        for text, numbered in _split_items(rest):
            units.append(_Unit(_strip_end(text), cue, numbered or numbered_sentence))
    return units


def _subject_modal(text: str) -> bool:
    """Tell whether text is subject + modal: 县市要… / 对…，全党要… / 从严治党不能空论，要…."""
    clauses = _CLAUSE.split(text, maxsplit=2)
    first = clauses[0]
    m = _MODAL_INNER.search(first)
    if m and m.start() <= _MAX_SUBJECT and not _REPORTED.match(first) and "是" not in first[: m.start()]:
        return True
    if len(clauses) > 1:
        second = clauses[1]
        m = _MODAL_INNER.search(second)
        topical = _TOPIC.match(first) or len(first) <= 12
        if topical and m and m.start() <= 10 and "是" not in second[: m.start()]:
            return True
    return False


def _is_directive(unit: _Unit, prescribing: bool) -> bool:
    """Tell a directive: a modal opener, subject + modal, or an imperative where one prescribes.

    `prescribing` says the context already prescribes: a frame like 会议强调 or the unit before.
    """
    text = unit.text
    if len(text) < 4 or _REPORTED.match(text):
        return False
    if _MODAL_OPENER.match(text) or _subject_modal(text):
        return True
    # 一是…；二是… under a prescribing frame are items of the instruction, whatever their verb.
    if unit.numbered and prescribing:
        return True
    return (prescribing or unit.numbered) and bool(_IMPERATIVE.match(text))


def _head(text: str) -> str:
    """Return the directive's label: the short phrase after 要, else its first clause."""
    body = _HEAD_OPENER.sub("", text, count=1)
    first = _CLAUSE.split(body, maxsplit=1)[0].strip()
    if body is not text and len(first) <= 8:
        return first
    return first[:20]


def find_directives(paragraphs: list[str]) -> list[Directive]:
    """Return every directive of the paragraphs, in order, with its head, cue and paragraph."""
    found: list[Directive] = []
    for p, paragraph in enumerate(paragraphs):
        previous = False
        for unit in _units(paragraph):
            framed = unit.cue is not None and any(v in unit.cue for v in _PRESCRIBING)
            previous = _is_directive(unit, framed or previous)
            if previous:
                found.append(Directive(_head(unit.text), unit.text, unit.cue, p))
    return found
