"""Split Chinese news text into paragraphs and sentences without breaking quotes or titles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Sentence", "split_paragraphs", "split_sentences", "split_text"]

# Full- and half-width sentence ends; the NLPCC texts use ASCII ! and ?.
_ENDS = frozenset("。！？!?…")
# Bracket pairs we never split inside: quotes, book titles, parentheses.
_PAIRS = {"“": "”", "‘": "’", "《": "》", "「": "」", "『": "』", "（": "）", "(": ")", "【": "】"}
_CLOSERS = frozenset(_PAIRS.values()) | {'"', "'"}
# Closing quotes end the sentence their end mark ended; a closing parenthesis does not.
_QUOTE_CLOSERS = frozenset("”’」』\"'")
# A quote left open longer than this is treated as a typo, not as a reason never to split.
_MAX_QUOTE = 400
_SPACES = " \t\u00a0\u3000"
_MARKS = re.compile("[" + re.escape("".join(_ENDS | set(_PAIRS) | _CLOSERS)) + "]")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its text (original characters, end mark kept) and where it stands."""

    text: str
    paragraph: int
    index: int  # position among all sentences of the text


def split_paragraphs(text: str) -> list[str]:
    """Split text at line breaks into stripped, non-empty paragraphs."""
    return [p for p in (line.strip(" \t\u00a0\u3000\r") for line in text.splitlines()) if p]


def _balanced(paragraph: str) -> set[str]:
    """Return the openers whose pairs are balanced in this paragraph (only those nest)."""
    return {o for o, c in _PAIRS.items() if o != c and paragraph.count(o) == paragraph.count(c)}


def _pieces(paragraph: str) -> Iterator[str]:
    """Yield the sentences of one paragraph, end marks and closing quotes attached."""
    openers = _balanced(paragraph)
    ascii_quotes = paragraph.count('"') % 2 == 0
    stack: list[str] = []
    in_ascii = False
    opened_at = 0
    start = 0
    n = len(paragraph)
    # Only marks, quotes and brackets matter; jump between them instead of walking every character.
    for m in _MARKS.finditer(paragraph):
        i = m.start()
        if i < start:
            continue  # consumed with the end-mark run before it
        ch = paragraph[i]
        if ch in openers:
            if not stack:
                opened_at = i
            stack.append(_PAIRS[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
        elif ch == '"' and ascii_quotes:
            in_ascii = not in_ascii
            opened_at = i
        if (stack or in_ascii) and i - opened_at > _MAX_QUOTE:
            stack.clear()
            in_ascii = False
        if ch in _ENDS and not stack and not in_ascii:
            j = i + 1
            # Keep runs like ？！ or …… together, and a closing quote after the end mark.
            while j < n and (paragraph[j] in _ENDS or paragraph[j] in _QUOTE_CLOSERS):
                if paragraph[j] == '"':
                    if not ascii_quotes or not in_ascii:
                        break
                    in_ascii = False
                j += 1
            yield paragraph[start:j]
            start = j
        # An end mark inside quotes closes the sentence when the quote closes right after it.
        elif ch in _QUOTE_CLOSERS and i > 0 and paragraph[i - 1] in "。！？!?" and not stack and not in_ascii:
            yield paragraph[start : i + 1]
            start = i + 1
    if start < n:
        yield paragraph[start:]


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, never inside “…”, 《…》 or (…)."""
    out = []
    for piece in _pieces(paragraph):
        text = piece.strip(_SPACES)
        if text and not all(c in _ENDS or c in _CLOSERS for c in text):
            out.append(text)
        elif text and out:
            # A stray end mark belongs to the sentence before it; the spaces between stay, so
            # that the sentence is still a piece of the paragraph.
            out[-1] += piece.rstrip(_SPACES)
    return out


def split_text(paragraphs: list[str]) -> list[Sentence]:
    """Split paragraphs into numbered sentences."""
    sentences: list[Sentence] = []
    for p, paragraph in enumerate(paragraphs):
        for s in split_sentences(paragraph):
            sentences.append(Sentence(s, p, len(sentences)))
    return sentences
