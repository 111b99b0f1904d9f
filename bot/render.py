"""Turn stored articles and summaries into Telegram messages (HTML parse mode).

Every piece of article text is escaped here, so a title holding `<script>` or `&` shows as
written. Messages are split on paragraph boundaries under Telegram's 4,096-character limit
(counted with the tags, which is stricter than Telegram's count without them); a paragraph longer
than a message is cut on text with its tags closed and reopened, and titles are cut, so whatever
the article every message fits and parses.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Action, encode
from bot.texts import t
from ingest import (
    BlockedAddress,
    ConnectionFailed,
    DecodeError,
    FetchTimeout,
    HTTPStatusError,
    ParseError,
    TooLargeError,
    TooManyRedirects,
)
from summarizer import Directive, Summary, prefix_words

__all__ = [
    "LIMIT",
    "DigestItem",
    "StoredArticle",
    "article_line",
    "channel_post",
    "contacts_text",
    "digest_command",
    "digest_messages",
    "esc",
    "esc_user",
    "full_pages",
    "latest_message",
    "shown_head",
    "shown_length",
    "split_message",
    "summary_budget",
    "summary_message",
    "unrepeated",
]

LIMIT = 4096
_KEY_SENTENCES_IN_DIGEST = 2
_LINE_TITLE = 80  # characters of a title in a list: 30 lines, dated, stay one message whatever the titles
_TITLE = 300  # characters of a title in a heading: a page's <title> may hold its whole text
_BUTTON_TITLE = 24


class StoredArticle(Protocol):
    """The fields of a stored article the messages show."""

    id: int
    url: str
    title: str
    source_name: str | None
    outlet: str | None  # source_name, else the configured source's name
    published_at: datetime | None
    paragraphs: list[str]
    contacts: list[dict[str, str | None]]


def esc(text: object) -> str:
    """Escape text for Telegram HTML."""
    return html.escape(str(text), quote=False)


# Bidirectional controls: a reporter's name ending in U+202E would show the rest of the line reversed
# (the user id, the report), so a report could pass for another's.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def esc_user(text: object) -> str:
    """Escape text a user wrote (a name, a report) for Telegram HTML, its bidirectional controls shown as U+FFFD."""
    return _BIDI.sub("\ufffd", esc(text))


# Most specific first: HTTPStatusError, BlockedAddress … are FetchErrors, DecodeError a ValueError.
_WHY: tuple[tuple[type[Exception], str], ...] = (
    (HTTPStatusError, "why_status"),
    (FetchTimeout, "why_timeout"),
    (ConnectionFailed, "why_connection"),
    (TooManyRedirects, "why_redirects"),
    (BlockedAddress, "why_blocked"),
    (TooLargeError, "why_too_large"),
    (DecodeError, "why_decode"),
    (ParseError, "why_parse"),
)


def fetch_failure(cause: Exception | None, lang: str) -> str:
    """Return why a page could not be read, in the user's language (None: nothing new was stored)."""
    if cause is None:
        return t(lang, "fetch_failed", error=t(lang, "why_unchanged"))
    key = next((key for kind, key in _WHY if isinstance(cause, kind)), "why_other")
    return t(lang, "fetch_failed", error=t(lang, key, status=getattr(cause, "status", "")))


def _title(article: StoredArticle, limit: int = _TITLE) -> str:
    """Return the article's title (not escaped), cut to `limit` characters with an "…"."""
    title = article.title or "（无标题）"
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _web(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _date(article: StoredArticle, tz: tzinfo) -> str:
    return article.published_at.astimezone(tz).strftime("%Y-%m-%d") if article.published_at else ""


def _meta(article: StoredArticle, tz: tzinfo) -> str:
    return " · ".join(esc(x) for x in (_date(article, tz), article.outlet) if x)


def article_line(article: StoredArticle, tz: tzinfo) -> str:
    """Return one line for a list: id, date, title, source."""
    meta = _meta(article, tz)
    return f"<code>{article.id}</code> {esc(_title(article, _LINE_TITLE))}" + (f"\n    <i>{meta}</i>" if meta else "")


# /summary of a long article: at most this share of its body, and this many characters at most;
# an article too short for a share of it to hold a lead still gets that much.
_SHARE_OF_BODY = 0.4
_MAX_SHOWN = 1200
_MIN_SHOWN = 300
_HEAD_IN_LINE = 12  # characters of a head on the one-line list of heads
_HEADS_ROOM = 40  # characters the line of heads needs to say something
_TAG = re.compile(r"<[^>]+>")
_UNSAID = re.compile(r"[\W_]+")  # what two renderings of one sentence may differ in


def summary_budget(body_chars: int) -> int:
    """Return how many characters the /summary of an article of `body_chars` may show."""
    return min(_MAX_SHOWN, max(_MIN_SHOWN, int(body_chars * _SHARE_OF_BODY)))


def shown_length(message: str) -> int:
    """Return how many characters a reader sees of an HTML message (tags dropped, entities one)."""
    return len(html.unescape(_TAG.sub("", message)))


def _said(text: str) -> str:
    return _UNSAID.sub("", unicodedata.normalize("NFKC", text))


def unrepeated(directives: Sequence[Directive], key_sentences: Sequence[str]) -> list[Directive]:
    """Return the directives not already shown as (or inside) a key sentence: each is said once."""
    shown = [_said(k) for k in key_sentences]
    out = []
    for d in directives:
        said = _said(d.text)
        if not any(said in k or (k and k in said) for k in shown):
            out.append(d)
    return out


def shown_head(text: str, head: str) -> tuple[int, str]:
    """Return where the head stands in the directive's text (-1: not in it) and the head as shown:
    whole words only. Said once: 要<b>守底线</b>，…, not 守底线：要守底线，…"""
    at = text.find(head) if head else -1
    return at, head if at < 0 else prefix_words(text[at:], len(head))


def _bold_head(text: str, head: str) -> str:
    """Return the directive with its head in bold where it stands (要<b>守底线</b>，…)."""
    at, shown = shown_head(text, head)
    if at < 0:
        return f"<b>{esc(shown)}</b>：{esc(text)}"
    return f"{esc(text[:at])}<b>{esc(shown)}</b>{esc(text[at + len(shown) :])}"


def _short_head(head: str) -> str:
    """Return a head cut for the line of heads: whole words, no dangling 《“、, an … where cut."""
    short = prefix_words(head, _HEAD_IN_LINE).rstrip("“‘「《（(、，,：:")
    return short if short == head else short + "…"


def _heads_line(directives: Sequence[Directive], lang: str, room: int) -> str:
    """Return the directives as their heads on one line, as many as fit in `room` characters."""
    line = f"<b>{t(lang, 'directive_heads', count=len(directives))}</b>："
    heads = [_short_head(shown_head(d.text, d.head)[1]) for d in directives]
    shown: list[str] = []
    for head in heads:
        if shown_length(line + esc(" · ".join([*shown, head]))) + 2 > room and shown:
            break
        shown.append(head)
    more = " …" if len(shown) < len(heads) else ""
    return line + esc(" · ".join(shown)) + more


def _article_buttons(
    article: StoredArticle, lang: str, *, directives: int = 0, expanded: bool = False
) -> InlineKeyboardMarkup:
    rows = []
    if directives:
        key, flag = ("collapse_directives", 0) if expanded else ("expand_directives", 1)
        label = t(lang, key, count=directives)
        rows.append([InlineKeyboardButton(label, callback_data=encode(Action.DIRECTIVES, article.id, flag))])
    row = [InlineKeyboardButton(t(lang, "full_button"), callback_data=encode(Action.FULL, article.id, 0))]
    if _web(article.url):
        row.append(InlineKeyboardButton(t(lang, "link_button"), url=article.url))
    row.append(InlineKeyboardButton(t(lang, "contacts_button"), callback_data=encode(Action.CONTACTS, article.id)))
    return InlineKeyboardMarkup([*rows, row])


def summary_message(
    article: StoredArticle, summary: Summary, lang: str, tz: tzinfo, *, expanded: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    """Return the /summary message: bold title, date · source, key sentences, directives, keywords.

    It shows at most `summary_budget` characters: when every directive does not fit, their heads
    go on one line and a button expands the list (`expanded`), which may then fill a message.
    A directive already shown as a key sentence is not listed again.
    """
    header = [f"<b>{esc(_title(article))}</b>"]
    if meta := _meta(article, tz):
        header.append(f"<i>{meta}</i>")
    key = list(summary.key_sentences)
    directives = unrepeated(summary.directives, key)
    words = f"{t(lang, 'keywords')}：{esc('、'.join(summary.keywords))}" if summary.keywords else ""
    listing = [f"<b>{t(lang, 'directives')}</b>"] + [
        f"{n}. {_bold_head(d.text, d.head)}" for n, d in enumerate(directives, 1)
    ]

    def compose(sentences: Sequence[str], directive_lines: Sequence[str], keywords: str) -> str:
        parts = [*header, "", *(f"• {esc(s)}" for s in sentences)]
        if directive_lines:
            parts += ["", *directive_lines]
        if keywords:
            parts += ["", keywords]
        return "\n".join(parts)

    whole = compose(key, listing if directives else [], words)
    budget = summary_budget(sum(len(p) for p in article.paragraphs))
    if expanded or shown_length(whole) <= budget:
        folding = len(directives) if expanded else 0  # a list shown whole by itself has no button
        return _fit(whole), _article_buttons(article, lang, directives=folding, expanded=expanded)
    # Keywords go first, then key sentences from the end (the lead stays), until the heads have room.
    cuts = [(key, words), (key, "")] + [(key[:n], "") for n in range(len(key) - 1, 0, -1)]
    for sentences, keywords in cuts:
        room = budget - shown_length(compose(sentences, [], keywords)) - 2
        if room >= _HEADS_ROOM:
            break
    text = compose(sentences, [_heads_line(directives, lang, room)] if directives else [], keywords)
    return _fit(text), _article_buttons(article, lang, directives=len(directives))


def _fit(text: str) -> str:
    """Cut a message that would not fit (a summary with a hundred directives, or a sentence of 10,000 characters)."""
    if len(text) <= LIMIT:
        return text
    return _split_at(text, LIMIT - 2)[0] + "\n…"


def latest_message(
    articles: Sequence[StoredArticle],
    lang: str,
    tz: tzinfo,
    *,
    offset: int,
    more: bool,
    search: tuple[int, str] | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return a list of the newest articles, or of a search's results (`search`: its id and escaped
    words), with a button per article and a [更多] button."""
    title = t(lang, "latest_title") if search is None else t(lang, "search_title", words=search[1])
    lines = [title] + [article_line(a, tz) for a in articles]
    rows = [
        [InlineKeyboardButton(f"{a.id} · {_title(a, _BUTTON_TITLE)}", callback_data=encode(Action.SUMMARY, a.id))]
        for a in articles
    ]
    if more:
        after = offset + len(articles)
        data = encode(Action.LATEST, after) if search is None else encode(Action.SEARCH, search[0], after)
        rows.append([InlineKeyboardButton(t(lang, "more"), callback_data=data)])
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def split_message(blocks: Iterable[str], limit: int = LIMIT) -> list[str]:
    """Join blocks with blank lines into messages under `limit`, never splitting a block unless it
    alone is too long: then it fills the rest of the message it starts in and goes on in the next."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        while True:
            joined = f"{current}\n\n{block}" if current else block
            if len(joined) <= limit:
                current = joined
                break
            if current and len(block) <= limit:
                messages.append(current)
                current = ""
            else:
                head, block = _split_at(joined, limit)
                messages.append(head)
                current = ""
    if current:
        messages.append(current)
    return messages


# A tag, an escaped character, or a run of text: a message is cut between them or inside a run.
_PIECE = re.compile(
    r"<(?P<end>/?)(?P<name>[^\s/>]*)[^>]*>|&(?:[A-Za-z]+|#[0-9]+|#[xX][0-9A-Fa-f]+);|(?P<text>[^<&]+)|[<&]"
)


def _split_at(text: str, limit: int) -> tuple[str, str]:
    """Return the longest head of an HTML text that fits in `limit` with its open tags closed, and the
    rest with them reopened: each is valid HTML.

    The cut is at the last line break in the second half of the room if there is one, else on text,
    never inside a tag or an escaped character ("&am" + "p;" would show as those pieces).
    """
    opened: list[tuple[str, str]] = []  # (name, start tag) of the tags open at this point
    cut: tuple[int, list[tuple[str, str]]] = (0, [])
    line: tuple[int, list[tuple[str, str]]] = (0, [])
    for match in _PIECE.finditer(text):
        start, piece = match.start(), match.group()
        room = limit - sum(len(name) + 3 for name, _ in opened)  # the end tags the head would need
        if start > room:
            break
        if start:
            cut = (start, list(opened))
        if match["end"]:
            opened.pop()
        elif match["name"]:
            opened.append((match["name"], piece))
        elif match["text"]:  # cut anywhere in it
            end = min(match.end(), room)
            if end > start:
                cut = (end, list(opened))
            if (newline := text.rfind("\n", start, end)) > 0:
                line = (newline, list(opened))
    at, kept = line if line[0] > limit // 2 else cut
    head = text[:at] + "".join(f"</{name}>" for name, _ in reversed(kept))
    return head, "".join(tag for _, tag in kept) + text[at:].lstrip("\n")


def full_pages(article: StoredArticle, tz: tzinfo) -> list[str]:
    """Return the full text as pages under the limit, the header on the first."""
    header = f"<b>{esc(_title(article))}</b>"
    if meta := _meta(article, tz):
        header += f"\n<i>{meta}</i>"
    # The header is never alone on a page: the first paragraph starts under it, cut if it must be.
    # Room for the page counter the handler appends.
    body = [esc(p) for p in article.paragraphs]
    return split_message(["\n\n".join([header, *body[:1]]), *body[1:]], LIMIT - 40)


def contacts_text(outlets: Iterable[tuple[str | None, Iterable[Mapping[str, str | None]]]], lang: str) -> str:
    """Return the reporting contacts under their outlet's name (None: no heading), numbers as plain text
    so clients make them tappable; a contact shown under an earlier outlet is not repeated."""
    lines = [t(lang, "contacts_title")]
    seen = set()
    for outlet, contacts in outlets:
        shown = []
        for c in contacts:
            key = (c.get("label"), c.get("value"))
            if key in seen:
                continue
            seen.add(key)
            value = c.get("value")
            shown.append(f"• {esc(c.get('label'))}" + (f"：{esc(value)}" if value else ""))
        if shown and outlet:
            lines += ["", f"<b>{esc(outlet)}</b>"]
        lines += shown
    if len(lines) == 1:
        lines.append(t(lang, "no_contacts"))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """An article of a digest: its summary, and the configured name of the source it came from."""

    article: StoredArticle
    summary: Summary | None
    source: str


SUBSCRIBE_PAYLOAD = "digest"  # /start digest subscribes


def deep_link(username: str, payload: str) -> str:
    """Return the link that opens the bot with `/start payload`: `article_payload(24)` opens article 24."""
    return f"https://t.me/{username}?start={payload}"


def article_payload(article_id: int) -> str:
    """Return the /start payload that opens an article's summary."""
    return f"a{article_id}"


def digest_command(article_id: int) -> str:
    """Return the command that opens an article's summary: clients make /a24 in a message tappable."""
    return f"/a{article_id}"


def _digest_item(item: DigestItem) -> str:
    article = item.article
    title = esc(_title(article))
    head = f'<a href="{html.escape(article.url)}">{title}</a>' if _web(article.url) else f"<b>{title}</b>"
    outlet = article.source_name
    if outlet and outlet != item.source:  # the outlet the page credits, when another than the source
        head += f" <i>（{esc(outlet)}）</i>"
    lines = [f"{head} {digest_command(article.id)}"]
    sentences = item.summary.key_sentences[:_KEY_SENTENCES_IN_DIGEST] if item.summary else []
    lines.extend(esc(s) for s in sentences)
    return "\n".join(lines)


def digest_messages(
    items: Sequence[DigestItem], lang: str, title: str, *, more: int = 0, more_offset: int = 0
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """Return a digest's messages: `title`, then the articles grouped by source, each with its title,
    key sentences and the command that opens its summary; with `more` articles left, a last line
    saying so and a button showing them (from `more_offset` of what waits)."""
    if not items:
        return [(f"{title}\n{t(lang, 'digest_nothing')}", None)]
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(item.source, []).append(_digest_item(item))
    blocks = [title]
    for source, entries in groups.items():
        blocks.append(f"<b>【{esc(source)}】</b>")
        blocks.extend(entries)
    markup = None
    if more:
        blocks.append(t(lang, "digest_more", count=more))
        button = InlineKeyboardButton(t(lang, "digest_more_button"), callback_data=encode(Action.DIGEST, more_offset))
        markup = InlineKeyboardMarkup([[button]])
    parts = split_message(blocks)
    return [(text, markup if n == len(parts) - 1 else None) for n, text in enumerate(parts)]


def channel_post(article: StoredArticle, summary: Summary, tz: tzinfo) -> str:
    """Return a new article as a channel post: title, key sentences, directives, link."""
    text, _ = summary_message(article, summary, "zh", tz)
    if _web(article.url):
        text = _fit(f"{text}\n\n{html.escape(article.url)}")
    return text
