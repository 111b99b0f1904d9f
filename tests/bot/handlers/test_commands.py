"""Every command through python-telegram-bot and the emulator: happy paths and bad inputs."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.callbacks import Action, encode
from bot.delivery import enqueue_due_digests
from bot.emulator import Sent
from bot.pipeline import ingest_targets
from bot.services import open_services
from ingest import Article, SourceKind, simhash
from storage import ensure_source, store_article
from summarizer import summarize
from tests.bot.botenv import ADMIN, USER, BotEnv
from tests.bot.delivery.test_digests import next_local

pytestmark = pytest.mark.asyncio


def buttons(sent: object) -> list[tuple[str, str | None]]:
    rows = (getattr(sent, "reply_markup", None) or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data") or b.get("url")) for row in rows for b in row]


async def newest_id(env: BotEnv, title_part: str) -> int:
    listing = await env.ask("/latest 30")
    for text, data in buttons(listing):
        if title_part in text and data and data.startswith("s:"):
            return int(data.split(":")[1])
    raise AssertionError(f"no article like {title_part!r} in {listing.text}")


async def store_file(env: BotEnv, path: Path) -> None:
    async with open_services(env.settings) as services:
        tally = await ingest_targets([str(path)], fetcher=services.fetcher, sessions=services.sessions)
    assert tally.counts["new"] == 1, tally


async def test_start_offers_the_digest_and_the_button_subscribes(bot_env: BotEnv) -> None:
    welcome = await bot_env.ask("/start")
    assert "newsbot" in (welcome.text or "")
    ((_caption, data),) = buttons(welcome)
    assert data == encode(Action.SUBSCRIBE)
    done = await bot_env.press(welcome, data, method="sendMessage")
    assert "已订阅" in (done.text or "") and "08:00" in (done.text or "")


async def test_help_lists_commands_and_admin_ones_only_for_admins(bot_env: BotEnv) -> None:
    user_help = await bot_env.ask("/help")
    assert "/summary" in (user_help.text or "") and "/announce" not in (user_help.text or "")
    admin_help = await bot_env.ask("/help", user=ADMIN)
    assert "/announce" in (admin_help.text or "")


async def test_english_users_get_english(bot_env: BotEnv) -> None:
    reply = await bot_env.ask("/start", language="en")
    assert "Hello, I am newsbot" in (reply.text or "")


async def test_latest_and_the_article_buttons(bot_env: BotEnv) -> None:
    listing = await bot_env.ask("/latest")
    assert "中共荆州市委六届六次全体会议举行" in (listing.text or "")
    article = next(data for text, data in buttons(listing) if "荆州" in text)
    summary = await bot_env.press(listing, article or "", method="sendMessage")
    assert "<b>中共荆州市委六届六次全体会议举行</b>" in (summary.text or "")


async def test_summary_by_id_words_and_newest(bot_env: BotEnv) -> None:
    seed = await newest_id(bot_env, "荆州")
    by_id = await bot_env.ask(f"/summary {seed}")
    text = by_id.text or ""
    assert "2023-07-13 · 荆州广播电视台" in text
    assert "守底线 · 稳基础 · 强引擎" in text  # 19 directives do not fit: their heads on one line
    assert [b[0] for b in buttons(by_id)][:2] == ["展开 19 项部署要求", "全文"]
    by_words = await bot_env.ask("/summary 流域治理")
    assert "中共荆州市委六届六次全体会议举行" in (by_words.text or "")
    newest = await bot_env.ask("/summary")
    assert newest.text and newest.text.startswith("<b>")


async def test_an_id_in_full_width_digits_is_the_id(bot_env: BotEnv) -> None:
    seed = await newest_id(bot_env, "荆州")
    wide = str(seed).translate(str.maketrans("0123456789", "０１２３４５６７８９"))  # as Chinese input methods type it
    assert (await bot_env.ask(f"/summary {wide}")).text == (await bot_env.ask(f"/summary {seed}")).text
    assert (await bot_env.ask(f"/full {wide}")).text == (await bot_env.ask(f"/full {seed}")).text
    assert "中共荆州市委" in ((await bot_env.ask("/latest ３")).text or "")


async def test_the_directives_expand_and_fold_in_place(bot_env: BotEnv) -> None:
    seed = await newest_id(bot_env, "荆州")
    folded = await bot_env.ask(f"/summary {seed}")
    expand = dict(buttons(folded))["展开 19 项部署要求"]
    assert expand == encode(Action.DIRECTIVES, seed, 1)
    expanded = await bot_env.press(folded, expand or "")
    assert expanded.message_id == folded.message_id
    text = expanded.text or ""
    assert "要<b>守底线</b>" in text and "19. " in text  # every directive, its head bold where it stands
    assert text.count("坚持同题共答") == 1  # the key sentence that is a directive is said once
    fold = dict(buttons(expanded))["收起部署要求"]
    again = await bot_env.press(expanded, fold or "")
    assert again.text == folded.text


async def test_summary_bad_inputs(bot_env: BotEnv) -> None:
    missing = await bot_env.ask("/summary 99999999")
    assert "找不到编号为 99999999 的文章" in (missing.text or "")
    huge = await bot_env.ask("/summary " + "长" * 10_000)
    assert "输入太长了" in (huge.text or "")
    nothing = await bot_env.ask("/summary 完全不存在的词语组合")
    assert "没有找到" in (nothing.text or "")
    foreign = await bot_env.ask("/summary https://evil.example.com/a.html")
    assert "只能摘要已配置来源的网址" in (foreign.text or "") and "127.0.0.1" in (foreign.text or "")


async def test_html_in_titles_renders_literally(bot_env: BotEnv, tmp_path: Path) -> None:
    page = tmp_path / "x.txt"
    page.write_text(
        "<script>alert(1)</script> & 标题 <b>\n来源：测试\n正文第一句&amp;。会议强调，要抓落实。\n", encoding="utf-8"
    )
    await store_file(bot_env, page)
    article = await newest_id(bot_env, "script")
    reply = await bot_env.ask(f"/summary {article}")
    # The emulator refuses malformed HTML as Telegram does: a reply at all means it was escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 标题 &lt;b&gt;" in (reply.text or "")


async def test_full_text_pages_edit_in_place(bot_env: BotEnv, tmp_path: Path) -> None:
    paragraphs = [f"第{i}段。" + "这是一段很长的正文内容，用来测试分页。" * 12 for i in range(40)]
    page = tmp_path / "long.txt"
    page.write_text("很长的文章\n来源：测试\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")
    await store_file(bot_env, page)
    article = await newest_id(bot_env, "很长的文章")
    first = await bot_env.ask(f"/full {article}")
    assert "第 1/" in (first.text or "")
    assert len(first.text or "") <= 4096
    assert [caption for caption, _ in buttons(first)] == ["下一页", "返回摘要"]
    second = await bot_env.press(first, dict(buttons(first))["下一页"] or "")
    assert second.message_id == first.message_id  # edited in place
    assert "第 2/" in (second.text or "")
    assert {b[0] for b in buttons(second)} == {"上一页", "下一页", "返回摘要"}
    assert "很长的文章" not in (second.text or "")  # the header is on page 1 only
    bad = await bot_env.ask("/full abc")
    assert "请给出文章编号" in (bad.text or "")


def visible(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or ""))


async def test_a_huge_title_and_first_paragraph_fit_every_message(bot_env: BotEnv) -> None:
    """Telegram refuses a message over 4,096 characters or with a tag cut in two, as the emulator does."""
    title = "超长标题" + "标" * 4996
    paragraph = "".join(f"第{i}句说明会议的安排。" for i in range(1000))[:10_000]
    article = Article(title=title, paragraphs=[paragraph, "最后一段。"], url="https://example.cn/huge.html")
    async with open_services(bot_env.settings) as services, services.sessions.begin() as session:
        source_id = await ensure_source(session=session, name="测试", kind=SourceKind.PAGE, url="https://example.cn/")
        stored = await store_article(
            session=session,
            source_id=source_id,
            article=article,
            raw_html=None,
            simhash=simhash(article.text),
            summary=summarize(article),
            fetched_at=datetime.now(UTC),
        )
    summary = await bot_env.ask(f"/summary {stored.article_id}")
    assert visible(summary.text).startswith("超长标题标标") and "…" in visible(summary.text)
    pages = [await bot_env.ask(f"/full {stored.article_id}")]
    while next_page := dict(buttons(pages[-1])).get("下一页"):
        pages.append(await bot_env.press(pages[-1], next_page))
    sends = [r.status for r in bot_env.emulator.http_log if r.method in {"sendMessage", "editMessageText"}]
    assert len(sends) == 1 + len(pages) >= 4 and set(sends) == {200}
    shown = [visible(page.text).rsplit("\n\n", 1)[0] for page in pages]  # without the page counter
    heading, _meta, body = shown[0].split("\n", 2)
    assert heading.startswith("超长标题") and len(heading) <= 300 and body.strip().startswith("第0句")
    assert "".join("".join([body, *shown[1:]]).split()) == "".join(article.paragraphs)  # every character, once


async def test_report_contacts_and_filing(bot_env: BotEnv) -> None:
    contacts = await bot_env.ask("/report")
    # Each outlet's hotlines under its name: the Jingzhou one is not the Yunnan paper's.
    outlets = dict(block.split("\n", 1) for block in (contacts.text or "").split("\n\n")[1:-1])
    assert "违法和不良信息举报：0716-8445200" in outlets["<b>荆州广播电视台</b>"]
    assert "0871-64166935" in outlets["<b>云南日报</b>"] and "0716" not in outlets["<b>云南日报</b>"]
    with bot_env.emulator.watch() as queue:
        ack = await bot_env.ask("/report 某单位违规收费 <b>请查处</b>")
        assert "#1" in (ack.text or "")
        async with asyncio.timeout(5):
            while (forwarded := await queue.get()).chat_id != ADMIN:
                pass
    assert "新举报 #1" in (forwarded.text or "")
    assert "&lt;b&gt;请查处&lt;/b&gt;" in (forwarded.text or "")
    assert f"<code>{USER}</code>" in (forwarded.text or "")  # the reporter, for the admins only


async def test_subscribe_settings_filters_and_unsubscribe(bot_env: BotEnv) -> None:
    assert "时间格式应为" in ((await bot_env.ask("/subscribe 25:00")).text or "")
    assert "你还没有订阅" in ((await bot_env.ask("/settings")).text or "")
    assert "07:30" in ((await bot_env.ask("/subscribe 7:30")).text or "")
    settings = await bot_env.ask("/settings")
    assert "摘要时间：07:30（" in (settings.text or "")
    assert "已添加过滤：流域" in ((await bot_env.ask("/filter 流域")).text or "")
    assert "已添加过滤：-体育" in ((await bot_env.ask("/filter -体育")).text or "")
    assert "流域、-体育" in ((await bot_env.ask("/settings")).text or "")
    assert "已清除过滤：流域、-体育" in ((await bot_env.ask("/filter clear")).text or "")
    assert "已退订" in ((await bot_env.ask("/unsubscribe")).text or "")
    assert "你还没有订阅" in ((await bot_env.ask("/unsubscribe")).text or "")


async def test_search_and_sources(bot_env: BotEnv) -> None:
    found = await bot_env.ask("/search 绿色制造")
    assert "17种产品、1个园区入选国家绿色制造名单" in (found.text or "")
    assert "请在 /search 后写上关键词" in ((await bot_env.ask("/search")).text or "")
    listing = await bot_env.ask("/sources")
    assert "示例" in (listing.text or "") and "清河新闻网" in (listing.text or "")


async def test_admin_commands_refuse_others(bot_env: BotEnv) -> None:
    for command in ("/announce 你好", "/stats", "/ingest", "/reports", "/channel @x"):
        reply = await bot_env.ask(command)
        assert "仅限管理员" in (reply.text or ""), command


async def test_forged_admin_buttons_from_a_non_admin_are_refused_and_logged(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    await bot_env.ask("/subscribe", user=5003)
    preview = await bot_env.ask("/announce 伪造的公告", user=ADMIN)
    data = {text: value for text, value in buttons(preview)}
    own = await bot_env.ask("/help")  # a message in the user's own chat: it has no such buttons
    caplog.set_level(logging.WARNING, logger="bot.handlers.admin")
    for forged in (data["发送"], data["取消"]):
        # What a modified client sends: an admin's callback data on a message of the user's own.
        bot_env.emulator.press(USER, own, forged or "", forged=True)
    answers = []
    async with asyncio.timeout(5):
        while len(answers) < 2:
            await asyncio.sleep(0.02)
            answers = [s for s in bot_env.emulator.sent if s.method == "answerCallbackQuery" and s.chat_id == USER]
    assert all("仅限管理员" in (a.text or "") for a in answers)
    assert caplog.text.count(f"refused admin action from user {USER}") == 2
    await asyncio.sleep(0.3)
    assert not [s for s in bot_env.emulator.messages_to(5003) if "伪造的公告" in (s.text or "")]
    # The admin's own buttons still work: the announcement was neither sent nor cancelled by the forgery.
    bot_env.emulator.press(ADMIN, preview, data["发送"] or "")
    await bot_env.emulator.wait_for(lambda s: s.chat_id == 5003 and "伪造的公告" in (s.text or ""), timeout=20)


async def test_stats_reports_and_ingest_for_admins(bot_env: BotEnv) -> None:
    await bot_env.ask("/report 测试举报")
    await bot_env.emulator.wait_for(lambda s: s.chat_id == ADMIN and "新举报" in (s.text or ""))
    stats = await bot_env.ask("/stats", user=ADMIN)
    assert "订阅者" in (stats.text or "") and "示例" in (stats.text or "")
    reports = await bot_env.ask("/reports", user=ADMIN)
    assert "#1" in (reports.text or "") and "测试举报" in (reports.text or "")
    ingest = await bot_env.ask("/ingest 示例", user=ADMIN, timeout=20)
    assert "抓取完成" in (ingest.text or "") and "未变 5" in (ingest.text or "") and "非文章 0" in (ingest.text or "")
    assert "没有名为" in ((await bot_env.ask("/ingest 不存在", user=ADMIN)).text or "")


async def test_announcement_preview_send_and_tally(bot_env: BotEnv) -> None:
    subscribers = [USER, 5001, 5002]
    for chat in subscribers:
        await bot_env.ask("/subscribe", user=chat)
    bot_env.emulator.block(5002)
    preview = await bot_env.ask("/announce 明天 <b>停电</b> 通知", user=ADMIN)
    assert "将发送给 3 位订阅者" in (preview.text or "")
    send = next(data for text, data in buttons(preview) if text == "发送")
    # A non-admin pressing the admin's button is refused.
    refused = await bot_env.press(preview, send or "", user=USER, method="answerCallbackQuery")
    assert "仅限管理员" in (refused.text or "")
    bot_env.emulator.press(ADMIN, preview, send or "")
    done = await bot_env.emulator.wait_for(
        lambda s: s.chat_id == ADMIN and "公告发送完毕" in (s.text or ""), timeout=20
    )
    assert "已发送 2" in (done.text or "") and "已屏蔽 1" in (done.text or "")
    for chat in (USER, 5001):
        got = [s for s in bot_env.emulator.messages_to(chat) if "公告" in (s.text or "")]
        # Typed tags are text, not formatting (Telegram formats with entities): shown as typed.
        assert len(got) == 1 and "明天 &lt;b&gt;停电&lt;/b&gt; 通知" in (got[0].text or "")


async def test_unknown_commands_and_free_text(bot_env: BotEnv) -> None:
    assert "不认识这个命令" in ((await bot_env.ask("/frobnicate")).text or "")
    assert "/summary" in ((await bot_env.ask("今天有什么新闻？")).text or "")


async def test_a_digests_article_command_and_deep_links_open_the_summary(bot_env: BotEnv) -> None:
    article_id = await newest_id(bot_env, "")
    by_id = await bot_env.ask(f"/summary {article_id}")
    assert (await bot_env.ask(f"/a{article_id}")).text == by_id.text  # what a digest's /a24 opens
    assert (await bot_env.ask(f"/a{article_id}@newsbot_test_bot")).text == by_id.text
    assert (await bot_env.ask(f"/start a{article_id}")).text == by_id.text  # https://t.me/<bot>?start=a24
    assert "找不到编号为 99999 的文章" in ((await bot_env.ask("/a99999")).text or "")
    # In a group: ours is answered, another bot's is not (nor by the fallback, which is for private chats).
    group = -4001
    assert (await bot_env.ask(f"/a{article_id}@newsbot_test_bot", chat=group)).text == by_id.text
    with bot_env.emulator.watch() as queue:
        bot_env.emulator.send_text(USER, f"/a{article_id}@other_bot", chat_id=group)
        await asyncio.sleep(1)
    assert not [r for r in drain(queue) if r.method == "sendMessage"]
    # /start digest subscribes, as /subscribe does.
    assert "已订阅" in ((await bot_env.ask("/start digest")).text or "")
    assert "08:00" in ((await bot_env.ask("/settings")).text or "")


def drain(queue: asyncio.Queue[Sent]) -> list[Sent]:
    records = []
    while not queue.empty():
        records.append(queue.get_nowait())
    return records


async def test_digest_previews_the_next_digest_without_moving_its_mark(bot_env: BotEnv, tmp_path: Path) -> None:
    assert "还没有订阅" in ((await bot_env.ask("/digest")).text or "")
    await bot_env.ask("/subscribe 08:00")
    assert "没有新文章" in ((await bot_env.ask("/digest")).text or "")  # the samples came before subscribing
    page = tmp_path / "new.txt"
    page.write_text("订阅之后的新闻\n来源：县融媒体中心\n会议强调，要压实责任。\n", encoding="utf-8")
    await store_file(bot_env, page)
    preview = await bot_env.ask("/digest")
    text = preview.text or ""
    assert "下一期摘要" in text and "订阅之后的新闻" in text and re.search(r"/a\d+", text)
    # The mark did not move: the scheduled digest still holds it.
    async with open_services(bot_env.settings) as services:
        assert await enqueue_due_digests(services.sessions, now=next_local(8, 5)) == 1
    digest = await bot_env.emulator.wait_for(lambda s: s.chat_id == USER and "每日摘要" in (s.text or ""), timeout=10)
    assert "订阅之后的新闻" in (digest.text or "")


async def test_an_article_whose_page_names_no_outlet_is_credited_to_its_configured_source(bot_env: BotEnv) -> None:
    latest = await bot_env.ask("/latest 10")
    lines = (latest.text or "").split("\n")
    meta = lines[next(i for i, line in enumerate(lines) if "厕所革命" in line) + 1]
    assert "示例" in meta  # the Tibet page credits nobody: the configured source's name, not a blank
