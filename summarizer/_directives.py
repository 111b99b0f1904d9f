"""Find the policy directives of a report: 要…, 必须…, 一是…二是…, in frames like 会议强调.

A directive prescribes action. We read each sentence, drop the frame that introduces it
(会议强调， / 习近平在…时强调， / 叮嘱) and the numbering of enumerated items (一是 / 第一， /
（一）), split ；-separated items, and find where the prescription starts: a clause that opens
with a modal (要 / 必须 / 务必 / 应当) or has a subject and a modal (县市要… / 对…，全党要…).
Clauses before it that only set the scene (义务教育是…的重中之重，要… / 为了…，要…) are left
out, as the labelling guide does. An imperative verb (坚持… / 加快… / 推动…) opens a directive
only where the context already prescribes: a frame, an enumeration, or the directive before.
Reports of what happened (会议听取…) and statements of significance (…是…的根本保证) are not
directives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarizer._sentences import split_sentences
from summarizer._summary import Directive

__all__ = ["find_directives", "prescribes"]

# Verbs that introduce reported speech; all but the neutral ones make the context prescriptive.
_FRAME_VERBS = "强调|指出|要求|号召|部署|提出|希望|表示|认为|明确|决定|确定|说|鼓励|倡议|提醒|建议|叮嘱|嘱咐|勉励"
_PRESCRIBING = frozenset(_FRAME_VERBS.split("|")) - {"表示", "认为", "说"}
# 要 as a modal: not 要求 / 要素 / 要点 …, not 要么 / 要问 / 要想 (if one wants) / 要比 (than), and
# 要紧 only when it is 要紧密 / 要紧抓 ….
_MODAL_YAO = r"要(?![求素点件闻害领务职员道地是么问想比])(?!紧(?![密抓盯扣跟]))"
# Prohibitions: 不得 / 严禁 / 一律 (not 不得不, "cannot but", nor 来不得 / 免不得).
_BAN = r"(?<![来免怪舍巴由顾记晓认见值少])不得(?!不|了)|严禁|一律|不准"
_MODAL = rf"(?:一定要|必须|务必|{_MODAL_YAO})"
# 要求 + whom: 会议要求各地区各部门… is a frame even without a comma.
_ADDRESSEE = "各|全|广大|有关|相关|党员|干部|领导"
# 会议强调， / 李强在会上强调，… / 叮嘱一定要… — a frame may follow a lead-in clause.
_FRAME = re.compile(
    rf"(?:^|(?<=[，,：:]))(?P<speaker>[^，,。；;：:！？!?]{{0,60}}?)(?P<verb>{_FRAME_VERBS})"
    rf"(?:[，,：:]\s*|(?={_MODAL})|(?<=要求)(?={_ADDRESSEE}))"
)
_SPEAKER_BAD = re.compile(rf"是|{_MODAL}|^(?:坚持|加快|推动|推进|加强|确保)")

_NUM = "一二三四五六七八九十"
_NUMBERING = re.compile(
    rf"^(?:[{_NUM}]{{1,3}}是|第[{_NUM}]{{1,3}}[，,、]|[（(][{_NUM}\d]{{1,3}}[)）]、?"
    rf"|\d{{1,2}}[、.．]\s*|[{_NUM}]{{1,3}}、|首先[，,]|其次[，,]|再次[，,]|最后[，,])"
)
_MODAL_OPENER = re.compile(
    rf"^(?:一定要|必须要|务必要|都要|还要|更要|{_MODAL_YAO}|必须|务必|应当|应该|须|决不能|不能|坚决不|{_BAN})"
)
_HEAD_OPENER = re.compile(r"^(?:一定要|必须要|务必要|要|必须|务必|应当|应该)")
_BAN_OPENER = re.compile(rf"^(?:{_BAN})")
# A modal inside a clause — not 重要 / 主要 / 需要 / 要求 / 纲要 and the like.
_MODAL_INNER = re.compile(
    rf"(?<![重主需只纲摘首必扼不显险紧简提想将快就禁很])(?:一定要|都要|也要|还要|更要|必须|务必|应当|{_MODAL_YAO})"
    rf"|不能|决不能|{_BAN}"
)
# A subject names who; these words say someone spoke or judged, so what holds them is narrative.
_SUBJECT_BAD = re.compile(r"是|赞成|讲到|认为|表示|指出|强调|提出|希望|听取|介绍|说|了|规定|增加|修改|草案")
_MAX_SUBJECT = 26
_IMPERATIVE = re.compile(
    "^(?:坚持|坚定|坚决|着力|着眼|加快|加大|加强|推动|推进|确保|深化|深入|健全|完善|强化|提高|提升|发挥"
    "|继续|进一步|全面|扎实|切实|积极|大力|持续|统筹|优化|落实|牢牢|牢固|树立|建立|构建|打造|抓好|抓住|做好"
    "|搞好|实施|促进|支持|鼓励|严格|严禁|不断|始终|精心|努力|把|以|围绕|聚焦|瞄准|紧扣|紧盯|紧紧|狠抓|弘扬"
    "|保持|稳定|巩固|扩大|引导|规范|增强|筑牢|守住|防范|防止|循序渐进|因地制宜|稳妥|稳步|有序|认真"
    "|更加|更好|用好|办好|管好|守好|建设|培育|培养|传承|保障|维护|贯彻|开展|注重|重视)"
)
# An imperative-looking opener that turns into a judgement: 支持…，是中央的基本方针.
_COPULA = re.compile(r"(?<!特别)(?<!尤其)(?<!而)是|关键在|根本在|在于|越来越")
# A purpose clause ending in a judgement: 要实现…目标，做好经济工作十分重要.
_JUDGEMENT_END = re.compile(r"(?:十分|非常|尤为|至关|极其|更加)重要$|意义重大$")
# What happened, not what should: these never open a directive.
_REPORTED = re.compile(
    "^(?:会议|全会|大会)?(?:听取|审议|通过|出席|列席|主持|传达|学习了|观看|参加|宣读|通报|讨论|研究了"
    "|作了|作出|举行|召开|印发|发布|介绍|汇报)"
)
# A topic that belongs to the directive after it: 对人民群众，要… / 对于…项目，政府要…
_TOPIC = re.compile(r"^对于?")
# A condition or topic that the prescription after it depends on: 凡…的，一律… / 对…的，要… /
# 有关部门对…问题，要… / 如果…，要…. It stays with the directive (the bare modal clause would say something else).
_CONDITION = re.compile(r"^(?:[^，,是]{0,12}?(?:对于?|针对)|凡是?|如果|若)|(?:的|者|时)$")
# What a law under review, or a member's opinion on it, says is reported, not prescribed by the
# meeting: 草案三审稿将本条修改为：“各级人民政府应当…” / 有意见提出，…还应当….
_DELIBERATION = re.compile(
    r"(?:^|(?<=[，,：:；;]))[^，,。；;要]{0,20}?(?:草案|修正案|审稿|有意见|有的委员|委员们|本条)[^，,。；;要]{0,20}?"
    r"(?:规定|修改为|明确|提出|认为|建议|表示|增加|删去)"
)
_QUESTION = re.compile(r"[？?][”’\"」』）)]*$")
_CLAUSE_END = re.compile(r"[，,：:]")


# Who prescribes: a meeting, a document, an office. An article that names none of them in its title
# or its lead, nor quotes an office with a prescribing verb, is a story, a recipe, an interview or
# a feature, whose 要 is a speaker's own plan or advice, not a directive.
_MEETING = "会议|全会|大会|座谈会|常委会|工作会|推进会|召开|举行|主持|考察|调研|视察"
_DOCUMENT = "通知|决定|意见|办法|条例|规定|方案|通告|公告|纲要"
_OFFICE = "党委|党组|政府|国务院|中央|委员会|书记|主席|总理|省长|市长|县长|区长|部长|厅长|局长|主任|负责人|部门"
_AUTHORITY_TITLE = re.compile(f"{_MEETING}|{_DOCUMENT}|强调|指出|讲话|指示|批示|部署|人民政府|国务院")
_AUTHORITY_LEAD = re.compile(_MEETING)
_AUTHORITY_SPEAKER = re.compile(f"{_MEETING}|{_OFFICE}")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence or an enumerated item, its frame and numbering removed."""

    text: str
    cue: str | None
    numbered: bool
    intro: bool  # ends in a colon: it announces the items after it
    reported: bool  # a question, or what a draft law or a member's opinion says


def _strip_end(text: str) -> str:
    return text.rstrip("。！？!?；;，,…、 ").strip()


def _split_frame(sentence: str) -> tuple[str | None, str]:
    """Return (cue, rest): the reported-speech frame of a sentence, if any, and what follows."""
    for m in _FRAME.finditer(sentence):
        speaker = m.group("speaker")
        if _SPEAKER_BAD.search(speaker):
            continue
        # After a lead-in, 要求 / 部署 / 建议 are mostly nouns (…省委工作要求，): a frame there
        # must read as a speaker, and not follow a clause that already prescribes.
        lead_in = sentence[: m.start()]
        if lead_in and ("的" in speaker or _IMPERATIVE.match(speaker) or _opens(lead_in)):
            break
        return speaker + m.group("verb"), sentence[m.end() :]
    return None, sentence


def _subject_modal(clause: str) -> bool:
    """Tell whether a clause is subject + modal: 县市要… / 各级党委和政府必须…."""
    m = _MODAL_INNER.search(clause)
    return bool(
        m and m.start() <= _MAX_SUBJECT and not _SUBJECT_BAD.search(clause[: m.start()]) and not _REPORTED.match(clause)
    )


def _opens(clause: str) -> bool:
    """Tell whether a clause opens a prescription by itself."""
    return bool(_MODAL_OPENER.match(clause)) or _subject_modal(clause)


def _parallel(before: str, piece: str) -> bool:
    """Tell whether a piece after ； repeats the shape of the item before it (排比): 转变…，…；转变…."""
    head = _MODAL_OPENER.sub("", before, count=1)
    return len(piece) > 4 and piece[:2] == head[:2] and not _REPORTED.match(piece)


def _split_items(text: str) -> list[tuple[str, bool]]:
    """Split ；-separated items; a piece that opens no new item stays with the one before."""
    items: list[tuple[str, bool]] = []
    for piece in re.split(r"(?<=[；;])", text):
        stripped = piece.strip()
        if not stripped:
            continue
        numbered = bool(_NUMBERING.match(stripped))
        body = _NUMBERING.sub("", stripped, count=1) if numbered else stripped
        # An item in the shape of the one before is enumerated as if numbered.
        numbered = numbered or (bool(items) and _parallel(items[-1][0], body))
        new = numbered or _IMPERATIVE.match(body) or _opens(_CLAUSE_END.split(body, maxsplit=1)[0])
        # 既要…；又要…: one directive in two halves.
        paired = bool(items) and body.startswith(("又要", "也要")) and "既要" in items[-1][0]
        if items and (paired or (not new and not _TOPIC.match(body))):
            prev, prev_numbered = items[-1]
            # With the spaces before it, so that the item is still a piece of the sentence.
            items[-1] = (prev + piece.rstrip(), prev_numbered)
        else:
            items.append((body, numbered))
    return items


def _units(paragraph: str) -> list[_Unit]:
    """Read a paragraph into units, carrying the last frame over to the sentences after it."""
    units: list[_Unit] = []
    cue: str | None = None
    deliberating = False
    for sentence in split_sentences(paragraph):
        frame, rest = _split_frame(sentence)
        if frame or _DELIBERATION.search(sentence):
            deliberating = bool(_DELIBERATION.search(sentence))
        if frame:
            cue = frame
            # …并作工作部署，表示要…: a second frame verb right after the first.
            again, after = _split_frame(rest)
            if again is not None and rest.startswith(again):
                cue, rest = f"{frame}，{again}", after
        numbered_sentence = bool(_NUMBERING.match(rest))
        for text, numbered in _split_items(rest):
            intro = text.rstrip().endswith(("：", ":"))
            reported = deliberating or bool(_QUESTION.search(text))
            units.append(_Unit(_strip_end(text), cue, numbered or numbered_sentence, intro, reported))
    return units


def _prescription(unit: _Unit, prescribing: bool) -> str | None:
    """Return the directive in a unit (from the clause where it starts), or None.

    `prescribing` says the context already prescribes: a frame like 会议强调 or the unit before.
    """
    text = unit.text
    if len(text) < 4 or unit.intro or unit.reported or _REPORTED.match(text):
        return None
    starts = [0] + [m.end() for m in _CLAUSE_END.finditer(text)]
    clauses = [text[a:b].rstrip("，,：:") for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    if _JUDGEMENT_END.search(text):
        return None
    if _opens(clauses[0]):
        return text
    if len(clauses) > 1 and _TOPIC.match(clauses[0]) and _opens(clauses[1]):
        return text
    # Scene-setting first (义务教育是…重中之重，要…): the directive starts at the modal clause,
    # with the conditions and topics right before it (凡…的，一律…).
    for k, (start, clause) in enumerate(zip(starts[1:], clauses[1:], strict=True), start=1):
        scene = prescribing or "是" in text[:start]
        opener = _MODAL_OPENER.match(clause)
        if (opener and (scene or not _BAN_OPENER.match(clause))) or (scene and _subject_modal(clause)):
            while k > 0 and _CONDITION.search(clauses[k - 1]):
                k -= 1
            return text[starts[k] :]
    # 要求有关部门把…: the addressee of 要求 is the subject of what is asked.
    if prescribing and unit.cue and unit.cue.endswith("要求") and re.match(_ADDRESSEE, text):
        return text
    # 一是…；二是… under a prescribing frame are items of the instruction, whatever their verb.
    if unit.numbered and prescribing:
        return text
    if (prescribing or unit.numbered) and _IMPERATIVE.match(text) and not _COPULA.search(text):
        return text
    return None


def _head(text: str) -> str:
    """Return the directive's label: the short phrase after 要, else its first clause."""
    body = _HEAD_OPENER.sub("", text, count=1)
    first = _CLAUSE_END.split(body, maxsplit=1)[0].strip()
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
            text = _prescription(unit, framed or previous)
            previous = text is not None
            if text is not None:
                found.append(Directive(_head(text), text, unit.cue, p))
    return found


def prescribes(title: str, paragraphs: list[str]) -> bool:
    """Tell whether an article speaks with authority: a meeting, a document or an office's words.

    Its directives are read only then; anywhere else 要 is someone's plan or a cook's advice.
    """
    sentences = [s for p in paragraphs for s in split_sentences(p)]
    if _AUTHORITY_TITLE.search(title) or (sentences and _AUTHORITY_LEAD.search(sentences[0])):
        return True
    for sentence in sentences:
        cue, _ = _split_frame(sentence)
        if cue and any(v in cue for v in _PRESCRIBING) and _AUTHORITY_SPEAKER.search(cue):
            return True
    return False
