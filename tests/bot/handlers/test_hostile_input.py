"""Hostile input through every command, as a user and as an admin, in Chinese and English.

Whatever the argument (empty, 10,000 or 100,000 characters, RTL and bidi controls, emoji and ZWJ
sequences, zero-width characters, HTML- and Markdown-looking text, control characters, NUL), the
bot answers with one of its own messages in the user's language: never the apology of a failed
handler, never an exception, and never a message Telegram would refuse (the emulator parses HTML
and counts the length as Telegram does, so a refused send shows in its log as a 400).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql

from bot.config import DeliverySettings
from bot.emulator import Sent
from bot.handlers.admin import MAX_ANNOUNCEMENT
from bot.handlers.reading import MAX_ARGUMENT
from bot.handlers.replies import clean, typed
from bot.handlers.reporting import MAX_REPORT
from bot.handlers.subscribing import MAX_FILTERS, parse_time
from bot.pipeline import ingest_targets
from bot.render import LIMIT, latest_message
from bot.services import open_services
from bot.texts import ADMIN_COMMANDS, COMMANDS, t
from storage import add_filter, create_report, get_subscriber, search_articles
from tests.bot.botenv import ADMIN, USER, BotEnv, running_bot

# Each input is typed after the command, as "/command <input>".
NASTY: dict[str, str] = {
    "empty": "",
    "blanks": " \t\u3000 ",
    "huge 10k": ("新闻<b>&amp;😀 " * 1000)[:10_000],
    "huge 100k": ("字" * 99 + " ") * 1000,
    "one word 100k": "长" * 100_000,
    "rtl": "مرحبا بالعالم שלום עולם",
    "bidi controls": "\u202eevil\u202c \u2066iso\u2069 \u200f\u200e\u061c",
    "emoji and zwj": "👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 👍🏽 🇨🇳 ❤️\u200d🔥",
    "zero width": "\u200b\u200c\u200d\u2060\ufeff",
    "html": "<b>粗体</b> </pre> &amp; <script>alert(1)</script> <a href='javascript:x'>x</a> &lt; & <",
    "unclosed tag": "<b",
    "markdown": "*粗体* _斜体_ `代码` ```pre``` [链接](http://example.com) ~~删~~ \\_ ||剧透||",
    "control": "a\x01b\x07c\x1b[31md\x7fe\x9bf",
    "nul": "\x00",
    "nul inside": "流域\x00治理",
    "5000 digits": "9" * 5000,
    "20 digits": "9" * 20,
    "negative": "-1",
    "dash only": "-",
    "fullwidth time": "０７：３０",
    "newlines": "第一行\n第二行\r\n\t第三行",
    "broken url": "http://[::1",
    "at sign": "@",
}

USER_COMMANDS = [c[0] for c in COMMANDS]
ADMIN_ONLY = [c[0] for c in ADMIN_COMMANDS]
LANGUAGES = ("zh-hans", "en")
ADMINS = [ADMIN, *range(9100, 9116)]  # admin commands spread over several admins, as over several users
SENDS = {"sendMessage", "editMessageText", "answerCallbackQuery"}
_HOLE = "\x00"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"  # every bidirectional control


def pieces(language: str, key: str) -> list[str]:
    """Return the fixed parts of the bot's text `key` in `language`, around its placeholders."""
    values: dict[str, str] = {}
    while True:
        try:
            return t(language, key, **values).split(_HOLE)
        except KeyError as missing:
            if missing.args[0] in values or missing.args[0] == key:
                raise
            values[missing.args[0]] = _HOLE


def says(text: str, language: str, key: str) -> bool:
    """Tell whether `text` holds the bot's text `key` in `language`, whatever fills its placeholders."""
    at = 0
    for piece in pieces(language, key):
        if (at := text.find(piece, at)) < 0:
            return False
        at += len(piece)
    return True


# Answers that are no single text of the bot's: a list of reports, a page of an article.
PSEUDO = {
    "report_list": lambda text: re.search(r"<b>#\d+</b>", text) is not None,
    "article": lambda text: re.match(r"<b>.+</b>\n<i>\d{4}-\d\d-\d\d", text) is not None,
}


def expected(command: str, argument: str, *, admin: bool) -> set[str]:
    """Return the texts the bot may answer `/command argument` with (the keys of `bot.texts`)."""
    words = clean(" ".join(argument.split())).strip()  # what the bot sees: the words, control characters dropped
    if command in ADMIN_ONLY and not admin:
        return {"admins_only"}
    if command == "summary":
        if len(words) > MAX_ARGUMENT:
            return {"too_long"}
        if words.lower().startswith(("http://", "https://")):
            return {"foreign_host"}
        return {"keywords"} if not words else {"no_match", "not_found", "keywords"}
    if command == "search":
        if not words:
            return {"search_hint"}
        return {"too_long"} if len(words) > MAX_ARGUMENT else {"no_match", "search_title"}
    if command == "report":
        return {"contacts_title"} if not words else {"too_long"} if len(words) > MAX_REPORT else {"report_ack"}
    if command == "subscribe":
        return {"subscribed"} if not words or parse_time(words) else {"bad_time"}
    if command == "filter":  # sent after /subscribe
        if not words:
            return {"no_filters"}
        return {"too_long"} if len(words) > 30 else {"filter_added", "bad_filter"}
    if command == "announce":
        if not words:
            return {"announce_hint"}
        return {"too_long"} if len(html.escape(words)) > MAX_ANNOUNCEMENT else {"announce_preview", "too_long"}
    if command == "channel":
        return {"channel_hint"} if not words or len(words) > 64 or " " in words else {"channel_not_admin"}
    fixed = {
        "start": {"welcome"},
        "help": {"help_title"},
        "latest": {"latest_title"},
        "full": {"bad_id", "not_found", "article"} if typed(words).isascii() and typed(words).isdigit() else {"bad_id"},
        "sources": {"sources_title"},
        "unsubscribe": {"not_subscribed"},
        "digest": {"not_subscribed"},  # the probing users never subscribed
        "settings": {"not_subscribed"},
        "stats": {"stats"},
        "ingest": {"no_source"} if words else {"ingest_done"},
        "reports": {"no_reports", "report_list"},
    }
    return fixed[command]


def problems(reply: Sent, language: str, keys: Iterable[str]) -> list[str]:
    """Return what is wrong with a reply that should be one of `keys` in `language`."""
    text = reply.text or ""
    found: list[str] = []
    if says(text, "zh", "sorry") or says(text, "en", "sorry"):
        found.append("a handler failed (the apology)")
    if re.search(r"Traceback|Error|Exception|File \"", text):
        found.append("an exception leaked")
    lang = "en" if language == "en" else "zh"
    if not any(PSEUDO[key](text) if key in PSEUDO else says(text, lang, key) for key in keys):
        found.append(f"not one of {sorted(keys)} in {lang}")
    return found


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    """Yield a bot whose admin commands are spread over several admins, sending with no overall cap
    (the report notices to 17 admins would wait for it after every round: the limit is tested elsewhere)."""
    async with running_bot(
        f"sqlite:///{tmp_path / 'bot.db'}", admins=ADMINS, delivery=DeliverySettings(rate=0)
    ) as running:
        yield running


def refused_sends(env: BotEnv) -> list[str]:
    """Return the sends, edits and answers the emulator refused, as Telegram would have."""
    return [f"{r.method} {r.status}" for r in env.emulator.http_log if r.method in SENDS and r.status != 200]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@dataclass
class Prober:
    """Sends commands as fresh users (and as admins in turn) and says what is wrong with the answers."""

    env: BotEnv
    users: Iterator[int] = field(default_factory=lambda: itertools.count(100_000))
    admins: Iterator[int] = field(default_factory=lambda: itertools.cycle(ADMINS))
    reports: int = 0  # reports filed, each forwarded to every admin
    tried: int = 0

    async def attempt(self, command: str, argument: str, language: str, *, admin: bool) -> list[str]:
        user = next(self.admins) if admin else next(self.users)
        if command == "filter":
            await self.env.ask("/subscribe", user=user, language=language)
        text = f"/{command} {argument}" if argument else f"/{command}"
        reply = await self.env.ask(text, user=user, language=language, timeout=20)
        self.tried += 1
        self.reports += says(reply.text or "", "en" if language == "en" else "zh", "report_ack")
        keys = expected(command, argument, admin=admin)
        return [f"/{command} {argument!r:.60} {language} {'admin' if admin else 'user'}: {p}: {reply.text!r:.300}"
                for p in problems(reply, language, keys)]  # fmt: skip

    async def round(self, argument: str, commands: Iterable[str]) -> list[str]:
        """Try `argument` with each command, in both languages: as users first, then as admins."""
        commands = list(commands)
        as_users = [self.attempt(c, argument, lang, admin=False) for c in commands for lang in LANGUAGES]
        found = [p for ps in await asyncio.gather(*as_users) for p in ps]
        # A report's forward to the admins must not pass for an admin's answer below.
        async with asyncio.timeout(10):
            while self.forwards() < self.reports * len(ADMINS):
                await asyncio.sleep(0.02)
        admin = [c for c in commands if c in ADMIN_ONLY]
        as_admins = [self.attempt(c, argument, lang, admin=True) for c in admin for lang in LANGUAGES]
        return found + [p for ps in await asyncio.gather(*as_admins) for p in ps]

    def forwards(self) -> int:
        return sum(says(s.text or "", "zh", "report_admin") for s in self.env.emulator.sent if s.chat_id in ADMINS)


@pytest.mark.asyncio
@pytest.mark.slow
async def test_every_command_with_every_nasty_argument(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    prober = Prober(env)
    failures = [p for argument in NASTY.values() for p in await prober.round(argument, USER_COMMANDS + ADMIN_ONLY)]
    assert prober.tried == len(NASTY) * len(LANGUAGES) * (len(USER_COMMANDS) + 2 * len(ADMIN_ONLY))
    assert not failures, "\n".join(failures)
    assert not refused_sends(env)
    assert not errors(caplog)


@pytest.mark.asyncio
async def test_long_report_lists_and_many_filters(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    """/reports fills its message with whole reports only, wherever the 4,096-character limit falls;
    /filter stops at a number of filters /settings can still show."""
    async with open_services(env.settings) as services:
        for length in range(240, 270):  # moves the limit across every part of a report's heading
            async with services.sessions.begin() as session:
                await session.execute(sql("DELETE FROM reports"))
                for _ in range(20):
                    await create_report(session=session, user_id=1, chat_id=1, name="n", text="&" * length)
            listing = await env.ask("/reports", user=ADMIN)
            shown = listing.text or ""
            assert shown.count("<code>") == shown.count("</code>") >= 2, length
            assert shown.endswith("&amp;" * length), length  # the last report shown is whole
    await env.ask("/subscribe")
    async with open_services(env.settings) as services, services.sessions.begin() as session:
        subscriber = await get_subscriber(session=session, chat_id=USER)
        assert subscriber is not None
        for n in range(MAX_FILTERS):
            await add_filter(session=session, subscriber_id=subscriber.id, keyword=f"词{n}")
    assert (await env.ask("/filter 再一个")).text == t("zh", "too_many_filters", limit=MAX_FILTERS)
    assert (await env.ask("/filter -词0")).text == t("zh", "filter_added", filter="-词0")  # switching one is fine
    assert "词19" in ((await env.ask("/settings")).text or "")
    assert not refused_sends(env)
    assert not errors(caplog)


@pytest.mark.asyncio
async def test_command_shaped_messages(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    """Messages that look like commands, or almost: each gets a hint or the command's answer."""
    hint = {"free_text", "unknown_command"}
    cases = {
        "/": hint,
        "/" + "a" * 10_000: hint,
        "/start@someone_elses_bot": {"unknown_command"},
        "/START": {"welcome"},
        "/summary@newsbot_test_bot 流域": {"keywords"},
        "/ summary": hint,
        "/summary\u200b": hint | {"keywords"},
        "/ｓｔａｒｔ": hint,  # full-width letters
        "\u202e/start": hint,
        "\x00/start": hint,
    }
    users = itertools.count(300_000)
    for message, keys in cases.items():
        for language in LANGUAGES:
            reply = await env.ask(message, user=next(users), language=language)
            assert not problems(reply, language, keys), (message, language, reply.text)
    assert not refused_sends(env)
    assert not errors(caplog)


@pytest.mark.asyncio
async def test_hostile_names_in_reports(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    """A reporter's name and username are text too: escaped in the forward and in /reports, with no
    bidirectional control left to turn the rest of a line around."""
    name = "</b><script>&amp;\u202e👨\u200d👩\u200d👧" * 8
    with env.emulator.watch() as queue:
        env.emulator.send_text(USER, f"/report 测试{BIDI}举报", first_name=name + BIDI, username="evil_<b>")
        async with asyncio.timeout(5):
            while (forward := await queue.get()).chat_id != ADMIN:
                pass
    shown = html.escape(name.replace("\u202e", "\ufffd"), quote=False)
    assert shown in (forward.text or "") and "@evil_&lt;b&gt;" in (forward.text or "")
    listing = await env.ask("/reports", user=ADMIN)
    assert shown in (listing.text or "") and "测试" + "\ufffd" * len(BIDI) + "举报" in (listing.text or "")
    assert not set(BIDI) & set((forward.text or "") + (listing.text or ""))
    assert not refused_sends(env)
    assert not errors(caplog)


@pytest.mark.asyncio
async def test_a_long_paragraph_of_markup_splits_into_clean_pages(
    env: BotEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """/full cuts a paragraph longer than a message between escaped characters, never inside one."""
    paragraph = "甲<乙&丙>" * 800
    page = tmp_path / "markup.txt"
    # A sentence before it: a page of nothing but that paragraph is no article, and is not stored.
    page.write_text(f"实体测试\n来源：测试\n下面这一段用来检查长段落的分页。\n{paragraph}\n", encoding="utf-8")
    async with open_services(env.settings) as services:
        tally = await ingest_targets([str(page)], fetcher=services.fetcher, sessions=services.sessions)
        assert tally.counts["new"] == 1
        async with services.sessions() as session:
            (article,) = await search_articles(session=session, words="实体测试", limit=1)
    pages = [await env.ask(f"/full {article.id}")]
    while next_page := buttons(pages[-1]).get("下一页"):
        pages.append(await env.press(pages[-1], next_page))
    assert len(pages) >= 3
    for shown in pages:
        assert not re.search(r"&(?!amp;|lt;|gt;)", shown.text or ""), shown.text  # no entity cut in two
    assert sum((shown.text or "").count("甲&lt;乙&amp;丙&gt;") for shown in pages) >= 795  # a few cut across pages
    assert "".join(shown.text or "" for shown in pages).count("甲") == 800
    assert not refused_sends(env)
    assert not errors(caplog)


@dataclass
class Listed:
    """An article as lists show it."""

    id: int
    title: str
    url: str = "file:///x.txt"
    source_name: str | None = "测试"
    outlet: str | None = "测试"
    published_at: datetime | None = None
    paragraphs: list[str] = field(default_factory=list)
    contacts: list[dict[str, str | None]] = field(default_factory=list)


def test_a_list_of_thirty_huge_titles_is_one_message() -> None:
    articles = [Listed(id=10**15 + n, title="<&>标题" * 2000) for n in range(30)]
    text, markup = latest_message(articles, "zh", ZoneInfo("Asia/Shanghai"), offset=0, more=True)
    assert len(html.unescape(re.sub(r"<[^>]+>", "", text))) <= LIMIT
    assert text.count("…") == 30 and markup is not None


def buttons(sent: Sent) -> dict[str, str]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


# Pieces that trip parsers and renderers, mixed by hypothesis with arbitrary text.
FRAGMENTS = [v for v in NASTY.values() if len(v) < 200] + ["<", ">", "&", "&#0;", "</b>", "<b>", "\u202e", "/", ":"]
nasty_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=6).map("".join)
DRIVEN = ("summary", "search", "full", "latest", "report", "subscribe", "filter", "announce", "channel", "ingest")


@pytest.mark.asyncio
@pytest.mark.slow
async def test_generated_arguments(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    """Hypothesis mixes the pieces above with arbitrary text, through the commands that read their argument."""
    loop = asyncio.get_running_loop()
    prober = Prober(env)

    @settings(max_examples=15, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(nasty_text)
    def check(argument: str) -> None:
        found = asyncio.run_coroutine_threadsafe(prober.round(argument, DRIVEN), loop).result(timeout=60)
        assert not found, "\n".join(found)

    # Hypothesis drives from a thread; the bot keeps running on this loop.
    await asyncio.to_thread(check)
    assert prober.tried >= 15 * len(LANGUAGES) * len(DRIVEN)
    assert not refused_sends(env)
    assert not errors(caplog)


@pytest.mark.asyncio
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_nul_and_control_characters_on_postgresql(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL refuses NUL in a text column: reports, filters and announcements are stored without it."""
    stored = ("summary", "search", "report", "filter", "announce", "ingest", "channel")
    async with running_bot(database_url, admins=ADMINS) as running:
        prober = Prober(running)
        failures = [p for name in ("nul", "nul inside", "control") for p in await prober.round(NASTY[name], stored)]
        assert not failures, "\n".join(failures)
        assert not refused_sends(running)
    assert not errors(caplog)
