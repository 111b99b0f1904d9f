"""What the ranker knows about a sentence: where it stands, what it does, how central it is.

An editor writing a digest entry of a government report keeps the lead (who met, when, why),
the decision (审议通过 / 印发 / 部署 / 决定) and the most important directive, and leaves out the
attendance list and the procedure. Each of those is a feature here, next to the ones any news
summariser uses (position, title words, centrality in the sentence graph). The weights that
combine them are learned (`summarizer/_weights.py`); the features are the grammar of the genre.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["FEATURES", "Context", "is_meeting_report", "sentence_features"]

# A decision or an outcome of the meeting: what was adopted, issued, decided or deployed.
_DECISION = re.compile(
    r"审议(?:并原则)?通过|原则通过|表决通过|通过了|批准|印发|出台|发布了?|签署|决定|部署|作出(?:重要)?(?:指示|批示)"
    r"|任命|表彰|选举|成立"
)
# Reported business: what the meeting heard or discussed (the agenda, not its outcome).
_AGENDA = re.compile(r"^(?:会议|全会|大会|常委会)?(?:听取|审议|讨论|研究|传达|学习|通报|分析)")
# Who chaired or spoke: 赵乐际委员长主持 / 蔡奇出席会议并讲话.
_CHAIR = re.compile(r"主持|出席(?:会议)?并(?:讲话|发表)|发表(?:重要)?讲话")
# A roll call: 李强、王沪宁、蔡奇出席会议 / 列席会议.
_ROLL_CALL = re.compile(r"(?:[\u4e00-\u9fff]{2,4}、){2,}[\u4e00-\u9fff]{2,4}(?:等)?(?:出席|参加|列席)")
_ATTEND = re.compile(r"出席|参加|列席")
_ALONGSIDE = re.compile(r"列席|陪同")
# 习近平在会上发表重要讲话，总结…，分析…，部署…: what the speech did, the report's thesis.
_SPEECH = re.compile(r"(?:发表|作)(?:了)?(?:重要)?讲话[，,](?:[^，,。]{0,6}(?:总结|分析|阐述|部署|回顾|指出|明确))")
# The event itself: a meeting held, a visit made, something that happened.
_EVENT = re.compile(r"召开|举行|举办|开幕|闭幕|考察|调研|视察|看望|慰问|发生|造成|在京|在北京")
_FRAME = re.compile(r"^[^，,。]{0,24}?(?:强调|指出|要求|号召|提出|认为)[，,：:]")
# After a subject (县市要…): one character of it before the modal finds what twelve did, in half the time.
_MODAL = re.compile(r"(?:^|[，,：:])(?:要|必须|务必|应当|一定要)|[\u4e00-\u9fff](?:要|必须|务必)(?![求素点])")
# A judgement of significance or background: …是…的重要… / 具有重大意义.
_SIGNIFICANCE = re.compile(r"是[^，,。]{0,30}的(?:重要|重大|根本|基本|关键|必然)|意义|重要论述|重要讲话精神")
# The lookahead, one class, fails most characters at once instead of five alternatives each.
_DATE = re.compile(r"(?=[\d今昨近日])(?:\d{1,4}(?:年|月|日)|[今昨]天|[今昨]日|近日|日前)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:%|万|亿|元|人|个|家|项|件|起|次)")
_QUOTE = re.compile(r"“[^”]{6,}”")

# Feature names, in the order of the columns `sentence_features` returns.
FEATURES: tuple[str, ...] = (
    "first",  # the article's first sentence
    "second",
    "position",  # 1 / sqrt(1 + index)
    "paragraph_start",
    "first_paragraph",
    "late",  # in the last fifth of the article
    "graph",  # TextRank centrality, the best sentence 1
    "title",  # share of the title's words it holds
    "decision",
    "agenda",
    "chair",
    "roll_call",
    "event",
    "frame",  # 会议强调， / X指出，
    "modal",
    "directive",  # holds a directive the directive finder accepted
    "first_directive",  # the first sentence holding one
    "first_frame",  # the first 会议强调， / X指出， of the article
    "first_decision",
    "directive_rank",  # 1 / (1 + how many directive sentences came before)
    "frame_statement",  # a frame that states, not prescribes: 会议指出，多民族是…
    "speech",
    "significance",
    "date",
    "numbers",
    "quote",
    "short",  # under 15 characters
    "long",  # over 120 characters
    "meeting_report",  # the article reports a meeting or a leader's activity (its title or lead says so)
    "meeting_x_directive",
    "meeting_x_decision",
)


class Context:
    """What the features need to know about the whole article, besides the sentences."""

    __slots__ = ("directive_sentences", "meeting_report", "title_words")

    def __init__(self, title_words: Sequence[str], directive_sentences: set[int], meeting_report: bool) -> None:
        self.title_words = set(title_words)
        self.directive_sentences = directive_sentences
        self.meeting_report = meeting_report


def sentence_features(
    texts: Sequence[str],
    words: Sequence[Sequence[str]],
    paragraph_starts: Sequence[bool],
    paragraphs: Sequence[int],
    graph: np.ndarray,
    context: Context,
) -> np.ndarray:
    """Return the feature matrix: one row per sentence, one column per name in `FEATURES`."""
    n = len(texts)
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    title = context.title_words
    first_directive = min(context.directive_sentences, default=-1)
    framed = decided = False  # a frame, a decision seen in an earlier sentence
    directives_before = 0
    meeting = 1.0 if context.meeting_report else 0.0
    # Rows as tuples, made an array once: assigning each row to an array costs as much as its regexes.
    rows: list[tuple[float, ...]] = []
    for i, text in enumerate(texts):
        decision = bool(_DECISION.search(text))
        directive = i in context.directive_sentences
        frame = bool(_FRAME.search(text))
        # Nine sentences in ten hold no modal word at all: a substring test spares them the pattern.
        modal = ("要" in text or "必" in text or "应当" in text) and bool(_MODAL.search(text))
        # A list of names needs two 、: the other sentences are spared the list pattern, tried at every character.
        pauses = text.count("、")
        roll_call = bool(_ALONGSIDE.search(text)) or (
            pauses >= 2 and (bool(_ROLL_CALL.search(text)) or (pauses >= 3 and bool(_ATTEND.search(text))))
        )
        rows.append(
            (
                i == 0,
                i == 1,
                0.0,
                paragraph_starts[i],
                paragraphs[i] == 0,
                i >= 0.8 * n and n >= 5,
                0.0,
                len(title & set(words[i])) / len(title) if title else 0.0,
                decision,
                bool(_AGENDA.search(text)),
                bool(_CHAIR.search(text)),
                roll_call,
                bool(_EVENT.search(text)),
                frame,
                modal,
                directive,
                i == first_directive,
                frame and not framed,
                decision and not decided,
                1.0 / (1 + directives_before) if directive else 0.0,
                frame and not modal and not directive,
                bool(_SPEECH.search(text)),
                bool(_SIGNIFICANCE.search(text)),
                bool(_DATE.search(text)),
                min(len(_NUMBER.findall(text)), 3) / 3,
                bool(_QUOTE.search(text)),
                len(text) < 15,
                len(text) > 120,
                meeting,
                meeting * directive,
                meeting * decision,
            )
        )
        framed |= frame
        decided |= decision
        directives_before += directive
    out = np.array(rows, dtype=float)
    out[:, FEATURES.index("position")] = 1.0 / np.sqrt(1.0 + np.arange(n))
    out[:, FEATURES.index("graph")] = graph
    return out


_MEETING_WORDS = re.compile(
    r"会议|全会|大会|座谈会|常委会|工作会|推进会|召开|举行|主持|考察|调研|视察|强调|指出|讲话|指示|批示|部署"
)


def is_meeting_report(title: str, lead: str) -> bool:
    """Tell whether an article reports a meeting or a leader's activity, by its title and lead."""
    return bool(_MEETING_WORDS.search(title) or _MEETING_WORDS.search(lead[:120]))
