"""Fingerprint article text so that reposts of one story differ in only a few bits.

    >>> hamming(simhash(article.text), simhash(other.text)) <= 6  # near-duplicates

`simhash` is Charikar's SimHash over character 3-grams: Chinese has no spaces to split words on,
and 3-grams of characters survive the edits reposts make (a changed dateline, a dropped
sentence, full-width versus half-width punctuation) while keeping some word order. The text is
NFKC-normalised and case-folded, then stripped of whitespace, punctuation and symbols. Each
3-gram, packed as three 21-bit code points into one integer, is hashed with the SplitMix64
finalizer: a 64-bit bijection with full avalanche, computed in numpy for the whole article at
once, and, unlike ``hash()``, the same in every process and on every platform. The result is a
signed 64-bit integer, so it fits a SQL BIGINT column.

On 300- to 2,000-character articles, reposts (a credit line added, an editor line appended,
punctuation or indentation changed) land within 6 bits; unrelated articles are about 32 apart.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

__all__ = ["hamming", "simhash"]

_MASK = (1 << 64) - 1
# Everything but letters and digits of any script: whitespace, punctuation, symbols, "_".
_NOT_WORD = re.compile(r"[\W_]+")


def simhash(text: str) -> int:
    """Return the 64-bit SimHash of the text's character 3-grams, as a signed integer (0 for no text)."""
    chars = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())
    if not chars:
        return 0
    # Pad to one 3-gram; NUL never survives the stripping, so padding cannot collide with text.
    points = np.frombuffer(chars.ljust(3, "\0").encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    grams = (points[:-2] << np.uint64(42)) | (points[1:-1] << np.uint64(21)) | points[2:]
    grams, weights = np.unique(grams, return_counts=True)
    hashes = _splitmix64(grams)
    # One row per 3-gram, column i holding bit i of its hash.
    bits = np.unpackbits(hashes.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    # Bit i is set when the 3-grams with bit i set outweigh those without it.
    votes = 2 * (weights @ bits) > weights.sum()
    return int(np.packbits(votes, bitorder="little").view("<i8")[0])


def hamming(a: int, b: int) -> int:
    """Return how many of the 64 bits two SimHashes differ in, signed or unsigned alike."""
    return ((a ^ b) & _MASK).bit_count()


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """Return the SplitMix64 finalizer of each uint64 (wrapping arithmetic, as in the reference C)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
