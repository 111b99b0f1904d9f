"""Telegram's checks of a message's text: its HTML subset, parsed as tdlib parses it (with tdlib's
error messages), and the length limit on what is left once the tags are gone."""

from __future__ import annotations

import re

from bot.emulator._records import ApiError

__all__ = ["TEXT_LIMIT", "parse_html", "visible_text"]

TEXT_LIMIT = 4096  # characters, counted once tags are removed
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "span", "tg-spoiler", "blockquote"}
)
# Telegram decodes these four names and numeric references; any other "&" stays literal text.
_HTML_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib counts only ASCII blanks as spaces: "<" before an ideographic space still opens a tag.
_SPACES = re.compile(r"[ \t\r\n\v\0]*")
_TAG_NAME = re.compile(r"[^ \t\r\n\v\0>]*")
_ATTRIBUTE_NAME = re.compile(r"[^ \t\r\n\v\0=>]+")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*(?=[ \t\r\n\v\0>]|$)")


def visible_text(text: object, parse_mode: object = None) -> str:
    """Return the text a message shows, refusing it (ApiError 400) where Telegram would."""
    if isinstance(text, str) and str(parse_mode or "").lower() == "html":
        text = parse_html(text)
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > TEXT_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def parse_html(text: str) -> str:
    """Return the text Telegram shows for an HTML message, failing where its parser (tdlib parse_html) fails."""
    plain: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) >= 0:
        plain.append(_unescape(text[pos:start]))
        closing = text.startswith("</", start)
        if closing and not open_tags:
            raise _html_error(text, start, "Unexpected end tag")
        name_end = _match(_TAG_NAME, text, start + 1 + closing)
        name = text[start + 1 + closing : name_end].lower()
        if closing:
            pos = _match(_SPACES, text, name_end)
            if pos >= len(text) or text[pos] != ">":
                raise _html_error(text, start, "Unclosed end tag")
            expected, pos = open_tags.pop(), pos + 1
            if name and name != expected:
                raise _html_error(text, start, "Unmatched end tag", f', expected "</{expected}>", found "</{name}>"')
        elif name_end >= len(text):
            raise _html_error(text, start, "Unclosed start tag")
        elif name not in _HTML_TAGS:
            raise _html_error(text, start, f'Unsupported start tag "{name}"')
        else:
            attributes, pos = _read_attributes(text, name_end, name, start)
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise _html_error(text, start, 'Tag "span" must have class "tg-spoiler"')
            open_tags.append(name)
    if open_tags:
        problem = f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"'
        raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
    plain.append(_unescape(text[pos:]))
    return "".join(plain)


def _read_attributes(text: str, pos: int, tag: str, start: int) -> tuple[dict[str, str], int]:
    """Return a start tag's attributes and the position after its ">"."""
    attributes: dict[str, str] = {}
    while (pos := _match(_SPACES, text, pos)) < len(text) and text[pos] != ">":
        if (name_end := _match(_ATTRIBUTE_NAME, text, pos)) == pos:
            raise _html_error(text, start, f'Empty attribute name in the tag "{tag}"')
        name, pos = text[pos:name_end].lower(), _match(_SPACES, text, name_end)
        if pos < len(text) and text[pos] != "=":
            if tag == "blockquote" and name == "expandable":
                continue
            raise _html_error(text, start, f'Expected equal sign in declaration of an attribute of the tag "{tag}"')
        pos = _match(_SPACES, text, pos + 1)
        if pos < len(text) and text[pos] in "\"'":
            if (close := text.find(text[pos], pos + 1)) < 0:
                raise _html_error(text, start, "Unclosed start tag")
            attributes[name], pos = _unescape(text[pos + 1 : close]), close + 1
        elif pos < len(text):
            if (token_end := _match(_NAME_TOKEN, text, pos)) < 0:
                raise _html_error(text, pos, "Unexpected end of name token")
            attributes[name], pos = text[pos:token_end].lower(), token_end
    if pos >= len(text):
        raise _html_error(text, start, "Unclosed start tag")
    return attributes, pos + 1


def _match(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Return where ``pattern``'s match at ``pos`` ends, or -1 without a match."""
    match = pattern.match(text, pos)
    return match.end() if match else -1


def _html_error(text: str, pos: int, problem: str, detail: str = "") -> ApiError:
    offset = len(text[:pos].encode("utf-8", "surrogatepass"))
    return ApiError(400, f"Bad Request: can't parse entities: {problem} at byte offset {offset}{detail}")


def _unescape(text: str) -> str:
    return _HTML_ENTITY.sub(_decode_entity, text) if "&" in text else text


def _decode_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group()
