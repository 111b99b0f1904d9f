"""Turn the bytes of a fetched page into text, trusting labels only as far as the bytes agree.

Order: a byte-order mark, then valid UTF-8, then the HTTP charset (``declared``), then the
page's own ``<meta>`` charset (before a server-default ISO-8859-1 or ASCII label), then
statistical detection (charset-normalizer). Every attempt
is strict, so a wrong label falls through to the next method instead of producing mojibake;
but a label that fits all but a few bytes (a stray byte, a truncated last character) is taken,
with replacement characters, before detection, which reads UTF-8 so damaged as a Western code
page. Only when all of them fail is the least damaged candidate, UTF-8 among them, decoded with
replacements.
GB2312 and GBK labels are decoded as GB18030, their superset, as browsers do.
"""

from __future__ import annotations

import codecs
import logging
import re

import charset_normalizer

from ingest.errors import DecodeError

__all__ = ["DecodeError", "decode_html"]

logger = logging.getLogger(__name__)

# How much of the page is searched for a <meta> charset: Chinese portals put long scripts and
# comments in <head>, so the 1 KiB that browsers pre-scan is too little.
_SNIFF_BYTES = 16 * 1024
# A text page has no NUL bytes; a sample with more than this share of them is binary.
_MAX_NUL_SHARE = 0.01
# Decoding with replacements is accepted only when this share of the bytes or less is bad.
_MAX_DAMAGE_SHARE = 0.01

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels of GB2312/GBK in the wild (WHATWG's list plus Python's spellings); GB18030 decodes
# all of them and also the characters that sloppy "GB2312" pages really contain.
_GB_LABELS = frozenset(
    {
        "chinese",
        "cp936",
        "csgb2312",
        "csiso58gb231280",
        "euc-cn",
        "gb-2312",
        "gb-2312-80",
        "gb18030",
        "gb2312",
        "gb2312-80",
        "gbk",
        "iso-ir-58",
        "ms936",
        "windows-936",
        "x-euc-cn",
        "x-gbk",
    }
)
# Servers send these by default rather than by knowledge, so the page's <meta> outranks them.
_WEAK_LABELS = frozenset({"ascii", "cp1252", "latin-1", "iso8859-1"})

_META_TAG = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_HTTP_EQUIV = re.compile(rb"""\bhttp-equiv\s*=\s*["']?\s*content-type""", re.IGNORECASE)
_CHARSET_ATTR = re.compile(rb"""\scharset\s*=""", re.IGNORECASE)


def decode_html(data: bytes, *, declared: str | None = None) -> str:
    """Return the text of an HTML page given its raw bytes and the HTTP charset, if any.

    Raises:
        DecodeError: the bytes are binary: NUL bytes, or no encoding reads 99% of them.
    """
    if not data:
        return ""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    if _is_nul_heavy(data):
        raise DecodeError("input is binary: too many NUL bytes")
    try:
        # Legacy-encoded Chinese practically never validates as UTF-8, while pages that are
        # UTF-8 under a stale "gb2312" <meta> left in a template are common.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass

    labels = _labels(data, declared)
    for encoding in labels:
        if encoding == "utf-8":
            continue  # tried above
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            logger.debug("bytes are not valid %s, trying the next method", encoding)
    # A labelled page with a stray bad byte (a truncated character) is still text in its label's
    # encoding; detection would read UTF-8 damaged so as a Western code page.
    damage = {encoding: _damage(data, encoding) for encoding in labels}
    if (text := _least_damaged(data, damage)) is not None:
        return text
    detected = _detect(data)
    if detected is not None:
        try:
            return data.decode(detected)
        except UnicodeDecodeError:
            damage[detected] = _damage(data, detected)
    # Unlabelled UTF-8 with a stray byte (a text dump cut inside a character) detects as nothing.
    damage.setdefault("utf-8", _damage(data, "utf-8"))
    if (text := _least_damaged(data, damage)) is not None:
        return text
    raise DecodeError("input is binary or mixes encodings: no text encoding fits it")


def _least_damaged(data: bytes, damage: dict[str, int]) -> str | None:
    """Return the bytes decoded by the encoding that needs fewest replacements, if few enough."""
    best = min(damage, key=damage.__getitem__, default=None)
    if best is None or damage[best] > _MAX_DAMAGE_SHARE * len(data):
        return None
    logger.info("no encoding decodes the page cleanly; using %s with %d replacements", best, damage[best])
    return data.decode(best, errors="replace")


def _labels(data: bytes, declared: str | None) -> list[str]:
    """Return the encodings the HTTP charset and the <meta> name, most trusted first, without repeats."""
    http = _normalize(declared) if declared else None
    meta = _sniff_meta(data[:_SNIFF_BYTES])
    ordered = [meta, http] if http in _WEAK_LABELS else [http, meta]
    return list(dict.fromkeys(enc for enc in ordered if enc))


def _sniff_meta(head: bytes) -> str | None:
    """Return the charset of the first ``<meta charset>`` or Content-Type ``<meta>`` tag."""
    for tag in _META_TAG.finditer(head):
        text = tag.group()
        if not (_CHARSET_ATTR.search(text) or _HTTP_EQUIV.search(text)):
            continue
        match = _META_CHARSET.search(text)
        if match:
            encoding = _normalize(match.group(1).decode("ascii"))
            if encoding:
                return encoding
    return None


def _normalize(label: str) -> str | None:
    """Return the Python codec for a charset label (GB family → gb18030), None if unknown."""
    key = label.strip().strip("\"'").lower().replace("_", "-")
    if key in _GB_LABELS:
        return "gb18030"
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    if name in {"gb2312", "gbk"}:
        return "gb18030"
    # A page cannot declare itself UTF-16 in ASCII-compatible bytes; WHATWG reads it as UTF-8.
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def _detect(data: bytes) -> str | None:
    """Return the encoding charset-normalizer finds, None when it judges the bytes binary."""
    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        return None
    return _normalize(match.encoding) or match.encoding


def _is_nul_heavy(data: bytes) -> bool:
    """Return whether NUL bytes make up more than a text page could contain."""
    sample = data[:_SNIFF_BYTES]
    return sample.count(0) > _MAX_NUL_SHARE * len(sample)


def _damage(data: bytes, encoding: str) -> int:
    """Return how many replacement characters decoding with ``encoding`` would introduce."""
    return data.decode(encoding, errors="replace").count("\ufffd")
