"""Word segmentation: one lazily loaded segmenter owned by the summariser, and jieba's word frequencies.

The segmenter is rjieba (jieba-rs, jieba's algorithm in Rust) unless a block asks for jieba itself
(`segmented_by("jieba")`, what the benchmarks compare against). Without HMM both cut every text the
same way, from the same dictionary; rjieba does it some 15 times faster.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import pickle
import tempfile
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, partial
from itertools import groupby
from pathlib import Path

from summarizer._sentences import Sentence
from summarizer._stopwords import STOPWORDS

__all__ = [
    "SEGMENTERS",
    "Segmenter",
    "content_words",
    "information",
    "prefix_words",
    "segmented_by",
    "segmenter",
    "words_by_sentence",
]

SEGMENTERS = ("rjieba", "jieba")
_lock = threading.Lock()
# A context variable, not a module switch: a benchmark's block changes no other thread's segmenter.
_chosen: ContextVar[str] = ContextVar("segmenter", default=SEGMENTERS[0])


@dataclass(frozen=True, slots=True)
class Segmenter:
    """One segmenter's two cuts, both without HMM (unknown words stay split into dictionary pieces)."""

    cut: Callable[[str], list[str]]  # precise mode: the words, which put together are the text
    cut_for_search: Callable[[str], list[str]]  # also the known words inside a long one


def _cache_file(name: str) -> Path:
    # A per-user cache directory: a pickle must never come from a world-writable place.
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "newsbot" / f"{name}.pickle"


def _load_cache(path: Path) -> object | None:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
        return None


def _store(path: Path, data: object) -> None:
    """Write the cache atomically; a read-only or full disk only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
    except OSError:
        logging.getLogger(__name__).debug("cannot write the cache %s", path)


@cache
def _rjieba() -> Segmenter:
    import rjieba

    # Our own instance: words added to rjieba's module-level one must not change our cuts.
    seg = rjieba.Jieba()
    return Segmenter(partial(seg.cut, hmm=False), partial(seg.cut_for_search, hmm=False))


@cache
def _jieba() -> Segmenter:
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which warns on current setuptools.
        warnings.simplefilter("ignore")
        import jieba
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    # jieba's own cache is a marshal file that takes ~3x longer to load than a pickle of the
    # same prefix dictionary.
    path = _cache_file(f"jieba-{jieba.__version__}-prefix")
    cached = _load_cache(path)
    if isinstance(cached, tuple):
        tok.FREQ, tok.total = cached
        tok.initialized = True
    else:
        tok.initialize()
        _store(path, (tok.FREQ, tok.total))
    return Segmenter(partial(tok.lcut, HMM=False), partial(tok.lcut_for_search, HMM=False))


_LOADERS: dict[str, Callable[[], Segmenter]] = {"rjieba": _rjieba, "jieba": _jieba}


def segmenter() -> Segmenter:
    """Return the segmenter in use here, loading its dictionary on first use."""
    with _lock:
        return _LOADERS[_chosen.get()]()


@contextmanager
def segmented_by(name: str) -> Iterator[None]:
    """Segment with `name`, one of `SEGMENTERS`, inside the block."""
    if name not in _LOADERS:
        raise ValueError(f"unknown segmenter {name!r}: one of {', '.join(SEGMENTERS)}")
    token = _chosen.set(name)
    try:
        yield
    finally:
        _chosen.reset(token)


@cache
def _frequencies() -> tuple[dict[str, int], int]:
    """Return jieba's dictionary as word → frequency, and the sum of the frequencies."""
    # Located, not imported: importing jieba (pkg_resources) takes longer than the cached table loads.
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ImportError("the word frequencies are jieba's: pip install jieba")
    dictionary = Path(spec.origin).with_name("dict.txt")
    stat = dictionary.stat()
    path = _cache_file(f"jieba-dict-{stat.st_size}-{stat.st_mtime_ns}-frequencies")
    cached = _load_cache(path)
    if isinstance(cached, tuple):
        return cached
    freq: dict[str, int] = {}
    total = 0
    with dictionary.open(encoding="utf-8") as fh:
        for line in fh:
            word, count = line.split(" ", 2)[:2]
            # As jieba counts them: a word listed twice keeps its last frequency but adds both to the total.
            freq[word] = int(count)
            total += int(count)
    _store(path, (freq, total))
    return freq, total


@cache
def _content(token: str) -> str | None:
    """Return the token as a content word (NFKC, so full- and half-width match), or None."""
    w = unicodedata.normalize("NFKC", token)
    ok = len(w) >= 2 and w not in STOPWORDS and not w.isdigit()
    return w if ok and any("\u4e00" <= c <= "\u9fff" or c.isalpha() for c in w) else None


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    # No HMM: unknown words stay split into known pieces, which costs little in ranking and
    # saves a third of jieba's segmentation time. Offsets are summed here, as jieba's tokenize
    # sums them: rjieba's tokenize builds a tuple per word and takes twice as long as its cut.
    start = 0
    for token in segmenter().cut(text):
        if (w := _content(token)) is not None:
            yield w, start
        start += len(token)


def prefix_words(text: str, limit: int) -> str:
    """Return the longest run of whole words from the start of text within `limit` characters.

    A single character left last is dropped with its word: 西部/大/开发 cut after 大 reads as a
    word cut in two (西部大开发).
    """
    if len(text) <= limit:
        return text
    ends = [0]
    for token in segmenter().cut(text[: limit + 8]):  # the word across the limit ends within 8
        if ends[-1] + len(token) > limit:
            break
        ends.append(ends[-1] + len(token))
    if len(ends) > 2 and ends[-1] - ends[-2] == 1:
        ends.pop()
    return text[: ends[-1] or limit]  # one word longer than the limit has no boundary to cut at


def content_words(text: str) -> list[str]:
    """Return the content words of text: segmented, stop words and punctuation dropped."""
    return [w for w, _ in _tokens(text)]


def words_by_sentence(paragraphs: Sequence[str], sentences: Sequence[Sentence]) -> list[list[str]]:
    """Return each sentence's content words, segmenting each paragraph once."""
    out: list[list[str]] = [[] for _ in sentences]
    cut = segmenter().cut
    for p, group in groupby(sentences, key=lambda s: s.paragraph):
        members = list(group)
        paragraph = paragraphs[p]
        bounds, ends, pos = [], [], 0
        for s in members:
            pos = paragraph.find(s.text, pos)
            bounds.append(pos)
            pos += len(s.text)
            ends.append(pos)
        k = 0
        last = len(bounds) - 1
        end = pos  # words after the last sentence (one cut off by a length limit) are no one's
        at = 0
        # `_tokens` inlined: this loop runs once per token of the article, punctuation included.
        for token in cut(paragraph):
            if at >= end:
                break
            start, at = at, at + len(token)
            if (word := _content(token)) is None:
                continue
            while k < last and start >= bounds[k + 1]:
                k += 1
            # Words between sentences (a byline cut off the one after) belong to neither.
            if bounds[k] <= start < ends[k]:
                out[members[k].index].append(word)
    return out


@cache
def information(word: str) -> float:
    """Return how surprising a word is in general Chinese (−log of its dictionary frequency)."""
    with _lock:
        freq, total = _frequencies()
    return math.log(total / (freq.get(word) or 1))
