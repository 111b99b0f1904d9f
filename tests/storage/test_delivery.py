"""Delivery queries: subscribers, filters, digest content and timing, the outbox, reports, channels, stats."""

from __future__ import annotations

import asyncio
import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ingest import Article
from storage import (
    AnnouncementStatus,
    NotSubscribed,
    OutboxKind,
    OutboxRow,
    OutboxStatus,
    Subscriber,
    SubscriberKind,
    active_channels,
    active_subscriber_ids,
    active_subscribers,
    add_filter,
    answer_report,
    articles_for_digest,
    bind_channel,
    claim_due,
    clear_filters,
    count_reports,
    count_subscribers,
    create_announcement,
    create_report,
    delivery_stats,
    digest_key,
    digest_page,
    enqueue,
    ensure_source,
    followed_sources,
    get_announcement,
    get_report,
    get_subscriber,
    list_announcements,
    list_filters,
    make_sessionmaker,
    mark_blocked,
    mark_blocked_row,
    mark_failed,
    mark_progress,
    mark_report_forwarded,
    mark_retry,
    mark_sent,
    mark_sent_many,
    migrate_chat,
    outbox_backlog,
    outbox_tally,
    pending_count,
    recent_reports,
    remove_filter,
    report_of_notice,
    reports_to_forward,
    set_announcement_status,
    set_followed_sources,
    store_article,
    subscribe,
    subscriber_scripts,
    subscribers_due_for_digest,
    toggle_source,
    unbind_channel,
    unsubscribe,
    update_announcement,
    update_subscriber,
)
from summarizer import Facts, Summary

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # 2026-11-28 00:00 in Shanghai
MESSAGE = {"text": "<b>今日要闻</b>", "parse_mode": "HTML"}


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _subscribe(session: AsyncSession, chat_id: int, **settings: object) -> Subscriber:
    return await subscribe(
        session=session,
        chat_id=chat_id,
        user_id=chat_id,
        kind=SubscriberKind.PRIVATE,
        language="zh",
        now=T0 - timedelta(days=7),
        **settings,  # type: ignore[arg-type]
    )


# Subscribers ------------------------------------------------------------------------------------


async def test_subscribe_unsubscribe_and_subscribe_again(session: AsyncSession) -> None:
    sub = await subscribe(session=session, chat_id=42, user_id=7, kind="private", language="zh", now=T0)
    assert (sub.chat_id, sub.user_id, sub.kind, sub.language, sub.active) == (42, 7, SubscriberKind.PRIVATE, "zh", True)
    assert (sub.digest_time, sub.timezone, sub.digest_size, sub.send_empty) == (time(8), "Asia/Shanghai", 10, False)
    assert sub.last_digest_at == T0 and sub.created_at == T0
    assert sub.next_digest_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

    changed = await update_subscriber(session=session, chat_id=42, digest_time="07:30", digest_size=5, language="en")
    assert changed is not None and (changed.digest_time, changed.digest_size, changed.language) == (
        time(7, 30),
        5,
        "en",
    )

    assert await unsubscribe(session=session, chat_id=42) is True
    assert await unsubscribe(session=session, chat_id=42) is False
    left = await get_subscriber(session=session, chat_id=42)
    assert left is not None and not left.active and left.blocked_at is None
    assert await count_subscribers(session=session) == 0
    assert await count_subscribers(session=session, active=False) == 1

    later = T0 + timedelta(days=30)
    back = await subscribe(session=session, chat_id=42, user_id=None, kind="private", language="zh", now=later)
    assert back.active and back.user_id == 7
    assert (back.digest_time, back.digest_size, back.language) == (time(7, 30), 5, "en")  # settings kept
    assert back.last_digest_at == later  # no digest of the month it was away
    assert back.created_at == T0
    assert await count_subscribers(session=session) == 1

    assert await mark_blocked(session=session, chat_id=42, now=later) is True
    blocked = await get_subscriber(session=session, chat_id=42)
    assert blocked is not None and not blocked.active and blocked.blocked_at == later
    again = await subscribe(session=session, chat_id=42, user_id=7, kind="private", language="zh", digest_time="21:00")
    assert again.active and again.blocked_at is None and again.digest_time == time(21)
    assert await count_subscribers(session=session, active=None) == 1


async def test_subscriber_settings_are_checked(session: AsyncSession) -> None:
    await _subscribe(session, 1)
    with pytest.raises(ValueError, match="time zone"):
        await update_subscriber(session=session, chat_id=1, timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="HH:MM"):
        await update_subscriber(session=session, chat_id=1, digest_time="25:00")
    with pytest.raises(ValueError, match="at least 1"):
        await update_subscriber(session=session, chat_id=1, digest_size=0)
    with pytest.raises(ValueError, match="naive"):
        await update_subscriber(session=session, chat_id=1, last_digest_at=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="colour"):
        await update_subscriber(session=session, chat_id=1, colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        await subscribe(session=session, chat_id=2, user_id=None, kind="bot", language="zh")
    assert await update_subscriber(session=session, chat_id=404, send_empty=True) is None


async def test_active_subscribers_page_by_id(session: AsyncSession) -> None:
    for chat_id in range(1, 8):
        await _subscribe(session, chat_id)
    await unsubscribe(session=session, chat_id=3)
    first = await active_subscribers(session=session, limit=4)
    rest = await active_subscribers(session=session, limit=4, after_id=first[-1].id)
    assert [s.chat_id for s in first + rest] == [1, 2, 4, 5, 6, 7]
    await _subscribe(session, -100123)  # a group: negative
    page = await active_subscriber_ids(session=session, limit=3)
    assert page == [-100123, 1, 2]
    assert await active_subscriber_ids(session=session, limit=10, after_chat_id=page[-1]) == [4, 5, 6, 7]


async def test_a_subscriber_reads_the_script_it_chose(session: AsyncSession) -> None:
    assert await subscriber_scripts(session=session) == {}  # none subscribed yet
    await _subscribe(session, 1)
    await subscribe(session=session, chat_id=2, user_id=2, kind="private", language="zh", script="hant")
    assert await subscriber_scripts(session=session) == {1: "hans", 2: "hant"}
    await update_subscriber(session=session, chat_id=1, script="hant")
    await update_subscriber(session=session, chat_id=2, script="hans")
    assert await active_subscriber_ids(session=session, script="hant") == [1]
    assert await active_subscriber_ids(session=session, script="hans") == [2]
    # Subscribing again keeps the script chosen, whatever the client's language says now.
    await subscribe(session=session, chat_id=1, user_id=1, kind="private", language="zh", script="hans")
    assert (await subscriber_scripts(session=session))[1] == "hant"
    with pytest.raises(ValueError, match="script"):
        await update_subscriber(session=session, chat_id=1, script="latn")


async def test_followed_sources_and_toggling_them(session: AsyncSession) -> None:
    a, b, c, gone = [await ensure_source(session=session, name=n, kind="rss", url=f"https://{n}/") for n in "abcd"]
    sub = (await _subscribe(session, 1)).id
    known = [a, b, c]  # `gone` was dropped from the configuration; its row stays
    assert await followed_sources(session=session, subscriber_id=sub) == []  # all

    assert await toggle_source(session=session, subscriber_id=sub, source_id=a, known=known) is False
    assert await followed_sources(session=session, subscriber_id=sub) == [b, c]
    assert await toggle_source(session=session, subscriber_id=sub, source_id=a, known=known) is True
    assert await followed_sources(session=session, subscriber_id=sub) == []  # every one again: all, new ones too
    assert await toggle_source(session=session, subscriber_id=sub, source_id=a) is False  # known: every one stored
    assert await followed_sources(session=session, subscriber_id=sub) == [b, c, gone]

    await set_followed_sources(session=session, subscriber_id=sub, source_ids=[b])
    assert await followed_sources(session=session, subscriber_id=sub) == [b]
    with pytest.raises(ValueError, match="only source"):
        await toggle_source(session=session, subscriber_id=sub, source_id=b)
    with pytest.raises(ValueError, match="no source"):
        await toggle_source(session=session, subscriber_id=sub, source_id=999)
    with pytest.raises(ValueError, match="no such sources"):
        await set_followed_sources(session=session, subscriber_id=sub, source_ids=[b, 999])
    await set_followed_sources(session=session, subscriber_id=sub, source_ids=[a, b, c], known=known)
    assert await followed_sources(session=session, subscriber_id=sub) == []
    with pytest.raises(NotSubscribed):
        await toggle_source(session=session, subscriber_id=404, source_id=a)


async def test_filters_are_added_switched_and_removed(session: AsyncSession) -> None:
    sub = (await _subscribe(session, 1)).id
    assert await add_filter(session=session, subscriber_id=sub, keyword=" 长江 ") is True
    assert await add_filter(session=session, subscriber_id=sub, keyword="长江") is False
    assert await add_filter(session=session, subscriber_id=sub, keyword="广告", include=False) is True
    assert await add_filter(session=session, subscriber_id=sub, keyword="防汛") is True
    assert await add_filter(session=session, subscriber_id=sub, keyword="防汛", include=False) is True  # switched
    assert [(f.keyword, f.include) for f in await list_filters(session=session, subscriber_id=sub)] == [
        ("长江", True),
        ("广告", False),
        ("防汛", False),
    ]
    assert await remove_filter(session=session, subscriber_id=sub, keyword="广告") is True
    assert await remove_filter(session=session, subscriber_id=sub, keyword="广告") is False
    assert await clear_filters(session=session, subscriber_id=sub) == 2
    assert await list_filters(session=session, subscriber_id=sub) == []
    with pytest.raises(ValueError, match="1-64"):
        await add_filter(session=session, subscriber_id=sub, keyword="  ")
    with pytest.raises(NotSubscribed):
        await add_filter(session=session, subscriber_id=404, keyword="长江")


# Digest content ----------------------------------------------------------------------------------


def _summary(text: str) -> Summary:
    return Summary(key_sentences=[text], directives=[], keywords=[], facts=Facts(), ranking=[], version="1.0.0")


async def _store(
    session: AsyncSession, source: str, number: int, title: str, body: str, hours: float, simhash: int
) -> int:
    source_id = await ensure_source(session=session, name=source, kind="rss", url=f"https://{source}/")
    article = Article(title=title, paragraphs=[body], url=f"https://{source}/{number}.html")
    result = await store_article(
        session=session,
        source_id=source_id,
        article=article,
        raw_html=None,
        simhash=simhash,
        summary=_summary(body),
        fetched_at=T0 + timedelta(hours=hours),
    )
    return result.article_id


async def test_articles_for_digest_follow_sources_and_filters(session: AsyncSession) -> None:
    river = await _store(
        session, "jingzhou", 1, "荆州推进长江流域综合治理", "会议强调，要抓好长江大保护和防汛抗旱工作。", 1, 0x0F
    )
    metro = await _store(
        session, "wuhan", 2, "武汉地铁新线开通", "地铁十二号线今日开通运营，市民出行更方便。", 2, 0xF0 << 16
    )
    fair = await _store(
        session, "jingzhou", 3, "荆州举办招商引资大会", "大会签约项目三十个，另有广告展位百余个。", 3, 0xF0 << 32
    )
    old = await _store(session, "jingzhou", 4, "旧闻：长江水位", "长江水位回落。", -1, 0xF0 << 48)
    # wuhan reposts the river story: it counts for wuhan's followers too, and is not listed twice.
    await _store(session, "wuhan", 5, "荆州推进长江流域综合治理", "会议强调，要抓好长江大保护和防汛抗旱工作。", 4, 0x0F)
    sub = await _subscribe(session, 1)
    since, until = T0, T0 + timedelta(hours=4)

    async def digest(limit: int | None = None) -> list[int]:
        found = await articles_for_digest(session=session, subscriber=sub, since=since, until=until, limit=limit)
        assert all(a.summary is not None for a in found)
        return [a.id for a in found]

    assert await digest() == [fair, metro, river]  # newest first; `old` is before the window
    assert await digest(limit=2) == [fair, metro]
    # (since, until]: what was stored at `since` went in the last digest, what is stored at `until` in this one.
    window = await articles_for_digest(
        session=session, subscriber=sub, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2)
    )
    assert [a.id for a in window] == [metro]

    wuhan = await ensure_source(session=session, name="wuhan", kind="rss", url="https://wuhan/")
    await set_followed_sources(session=session, subscriber_id=sub.id, source_ids=[wuhan])
    assert await digest() == [metro, river]  # river through wuhan's repost
    await set_followed_sources(session=session, subscriber_id=sub.id, source_ids=[])

    await add_filter(session=session, subscriber_id=sub.id, keyword="防汛")  # in the body only
    assert await digest() == [river]
    await add_filter(session=session, subscriber_id=sub.id, keyword="地铁")
    assert await digest() == [metro, river]  # any include keyword
    await clear_filters(session=session, subscriber_id=sub.id)
    await add_filter(session=session, subscriber_id=sub.id, keyword="广告", include=False)  # in fair's body
    assert await digest() == [metro, river]
    await add_filter(session=session, subscriber_id=sub.id, keyword="武汉", include=False)  # in metro's title
    assert await digest() == [river]
    await clear_filters(session=session, subscriber_id=sub.id)
    await add_filter(session=session, subscriber_id=sub.id, keyword="%")  # a LIKE wildcard is a plain character
    assert await digest() == []
    await clear_filters(session=session, subscriber_id=sub.id)
    since = T0 - timedelta(hours=2)
    assert old in await digest()


async def test_a_digest_page_leaves_the_rest_for_the_next(session: AsyncSession) -> None:
    first = await _store(session, "jingzhou", 1, "荆州推进长江流域综合治理", "会议强调，要抓好长江大保护。", 1, 0x0F)
    second = await _store(session, "wuhan", 2, "武汉地铁新线开通", "地铁十二号线今日开通运营。", 2, 0xF0 << 16)
    # Stored at the same instant as `second`: a mark between them would skip it, so it comes along.
    third = await _store(session, "jingzhou", 3, "荆州举办招商引资大会", "大会签约项目三十个。", 2, 0xF0 << 32)
    await _store(session, "jingzhou", 4, "明日之闻", "尚未到来。", 5, 0xF0 << 48)  # after `until`
    sub = await _subscribe(session, 1)
    await update_subscriber(session=session, chat_id=1, last_digest_at=T0, digest_size=1)
    until = T0 + timedelta(hours=4)
    page = await digest_page(session=session, subscriber=sub, until=until)
    assert [e.article.id for e in page.entries] == [first] and page.entries[0].source == "jingzhou"
    assert page.remaining == 2 and page.through == T0 + timedelta(hours=1)
    preview = await digest_page(session=session, subscriber=sub, until=until, offset=1)  # /digest's next page
    assert [e.article.id for e in preview.entries] == [third, second] and preview.remaining == 0
    await update_subscriber(session=session, chat_id=1, last_digest_at=until, shown_until=page.through)
    page = await digest_page(session=session, subscriber=sub, until=until + timedelta(days=1))
    assert [e.article.id for e in page.entries] == [third, second]  # newest first; 明日之闻 waits
    assert page.remaining == 1
    assert {e.source for e in page.entries} == {"jingzhou", "wuhan"}
    await update_subscriber(session=session, chat_id=1, digest_size=10)
    page = await digest_page(session=session, subscriber=sub, until=until + timedelta(days=1))
    assert page.remaining == 0 and page.through == until + timedelta(days=1)


# Digest timing -----------------------------------------------------------------------------------


async def _due(session: AsyncSession, now: datetime) -> list[int]:
    return [s.chat_id for s in await subscribers_due_for_digest(session=session, now=now)]


async def test_digest_is_due_at_the_local_digest_time(session: AsyncSession) -> None:
    # Shanghai 08:00 is 00:00 UTC; its last digest was yesterday's.
    await _subscribe(session, 1)
    await update_subscriber(session=session, chat_id=1, last_digest_at=datetime(2026, 11, 27, 0, 0, 5, tzinfo=UTC))
    assert await _due(session, datetime(2026, 11, 27, 23, 55, tzinfo=UTC)) == []  # 07:55 on the 28th
    due_at = datetime(2026, 11, 28, 0, 5, tzinfo=UTC)
    [sub] = await subscribers_due_for_digest(session=session, now=due_at)
    assert digest_key(subscriber=sub, now=due_at) == "2026-11-28"
    await update_subscriber(session=session, chat_id=1, last_digest_at=due_at)  # the digest was enqueued
    assert await _due(session, datetime(2026, 11, 28, 0, 10, tzinfo=UTC)) == []  # not twice the same day
    assert await _due(session, datetime(2026, 11, 28, 15, 59, tzinfo=UTC)) == []  # 23:59 local
    assert await _due(session, datetime(2026, 11, 29, 0, 0, tzinfo=UTC)) == [1]


async def test_digest_times_in_other_zones(session: AsyncSession) -> None:
    last = datetime(2026, 11, 20, tzinfo=UTC)
    await _subscribe(session, 1, timezone="Europe/Berlin")  # 08:00 is 07:00 UTC in November
    await _subscribe(session, 2, timezone="America/New_York", digest_time="20:00")  # 01:00 UTC the next day
    await _subscribe(session, 3)
    for chat_id in (1, 2, 3):
        await update_subscriber(session=session, chat_id=chat_id, last_digest_at=last)
    # Days were missed, but none is made up before today's time comes: at 07:00 in Shanghai (18:00
    # in New York, midnight in Berlin) nobody is due.
    assert await _due(session, datetime(2026, 11, 27, 23, 0, tzinfo=UTC)) == []
    assert await _due(session, datetime(2026, 11, 28, 0, 59, tzinfo=UTC)) == [3]
    assert await _due(session, datetime(2026, 11, 28, 1, 0, tzinfo=UTC)) == [2, 3]
    assert await _due(session, datetime(2026, 11, 28, 4, 59, tzinfo=UTC)) == [2, 3]  # 23:59 in New York
    # Midnight in New York: its digest of the 27th was not taken, and the next is the 28th's, at 20:00.
    assert await _due(session, datetime(2026, 11, 28, 5, 0, tzinfo=UTC)) == [3]
    assert await _due(session, datetime(2026, 11, 28, 7, 0, tzinfo=UTC)) == [1, 3]
    assert await _due(session, datetime(2026, 11, 29, 1, 0, tzinfo=UTC)) == [2, 3]
    await unsubscribe(session=session, chat_id=2)
    assert await _due(session, datetime(2026, 11, 29, 1, 0, tzinfo=UTC)) == [3]


async def test_a_new_subscriber_gets_its_first_digest_at_the_next_digest_time(session: AsyncSession) -> None:
    ten = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, after today's 08:00
    await subscribe(session=session, chat_id=1, user_id=1, kind="private", language="zh", now=ten)
    assert await _due(session, datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) == []
    assert await _due(session, datetime(2026, 11, 29, 0, 0, tzinfo=UTC)) == [1]


async def test_due_subscribers_page_through_those_not_due(session: AsyncSession) -> None:
    # Even chats missed yesterday's digest and their time today has not come: the query finds
    # them by index and drops them; the pages must still hold every due chat, once.
    now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    for chat_id in range(1, 31):
        late = chat_id % 2 == 0
        await _subscribe(session, chat_id, digest_time="09:00" if late else "08:00")
        await update_subscriber(session=session, chat_id=chat_id, last_digest_at=now - timedelta(days=2))
    seen: list[int] = []
    after = 0
    while page := await subscribers_due_for_digest(session=session, now=now, limit=4, after_id=after):
        seen += [s.chat_id for s in page]
        after = page[-1].id
    assert seen == list(range(1, 31, 2))


# Outbox ------------------------------------------------------------------------------------------


async def test_enqueue_twice_sends_once(session: AsyncSession) -> None:
    assert await enqueue(session=session, kind="digest", key="2026-11-28", chat_ids=[1, 2, 3, 3], payload=MESSAGE) == 3
    again = await enqueue(
        session=session, kind=OutboxKind.DIGEST, key="2026-11-28", chat_ids=[3, 2, 4], payload=[MESSAGE]
    )
    assert again == 1
    assert (
        await enqueue(session=session, kind="digest", key="2026-11-29", chat_ids=[1], payload=[MESSAGE, MESSAGE]) == 1
    )
    tally = await outbox_tally(session=session, kind="digest", key="2026-11-28")
    assert tally == {OutboxStatus.PENDING: 4, **dict.fromkeys(set(OutboxStatus) - {OutboxStatus.PENDING}, 0)}
    rows = (await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars().all()
    assert rows[0].payload == {"parts": [MESSAGE]} and rows[-1].payload == {"parts": [MESSAGE, MESSAGE]}
    assert (rows[0].attempts, rows[0].telegram_message_ids, rows[0].status) == (0, [], OutboxStatus.PENDING)
    assert await enqueue(session=session, kind="digest", key="p", chat_ids=[1], payload={"parts": [MESSAGE]}) == 1
    [stored] = (await session.execute(select(OutboxRow.payload).where(OutboxRow.key == "p"))).scalars()
    assert stored == {"parts": [MESSAGE]}
    with pytest.raises(ValueError):
        await enqueue(session=session, kind="digest", key="x", chat_ids=[1], payload=[])
    with pytest.raises(ValueError):
        await enqueue(session=session, kind="digest", key="x", chat_ids=[1], payload={"parts": []})


async def test_enqueue_for_50000_chats(engine: AsyncEngine) -> None:
    chats = range(-1_000_000_000_000, -1_000_000_000_000 + 50_000)  # supergroup-sized ids: BIGINT
    async with make_sessionmaker(engine)() as session, session.begin():
        started = clock.perf_counter()
        added = await enqueue(session=session, kind="announcement", key="1", chat_ids=chats, payload=MESSAGE)
        first = clock.perf_counter() - started
        started = clock.perf_counter()
        again = await enqueue(session=session, kind="announcement", key="1", chat_ids=chats, payload=MESSAGE)
        second = clock.perf_counter() - started
    print(
        f"\n{session.get_bind().dialect.name}: enqueue 50,000 chats {first:.2f} s, again (all conflicts) {second:.2f} s"
    )
    assert (added, again) == (50_000, 0)
    async with make_sessionmaker(engine)() as session:
        assert await pending_count(session=session, kind="announcement", key="1") == 50_000


async def test_claim_due_takes_due_rows_oldest_first(session: AsyncSession) -> None:
    await enqueue(session=session, kind="digest", key="k", chat_ids=range(1, 6), payload=MESSAGE, now=T0)
    await enqueue(
        session=session,
        kind="digest",
        key="later",
        chat_ids=[9],
        payload=MESSAGE,
        now=T0,
        not_before=T0 + timedelta(hours=1),
    )
    first = await claim_due(session=session, worker="a", limit=3, now=T0)
    assert [r.chat_id for r in first] == [1, 2, 3]
    assert all((r.status, r.claimed_by, r.claimed_at) == (OutboxStatus.SENDING, "a", T0) for r in first)
    rest = await claim_due(session=session, worker="b", limit=3, now=T0)
    assert [(r.chat_id, r.claimed_by) for r in rest] == [(4, "b"), (5, "b")]
    assert await claim_due(session=session, worker="c", limit=3, now=T0 + timedelta(seconds=30)) == []
    # The row not before T0 + 1 h (with a lease long enough for the claims above to stand):
    hour = timedelta(hours=1)
    assert (
        await claim_due(session=session, worker="c", limit=10, now=T0 + hour - timedelta(seconds=1), lease=2 * hour)
        == []
    )
    [later] = await claim_due(session=session, worker="c", limit=10, now=T0 + hour, lease=2 * hour)
    assert later.chat_id == 9


async def test_an_expired_claim_is_taken_again(session: AsyncSession) -> None:
    await enqueue(session=session, kind="digest", key="k", chat_ids=[1, 2], payload=MESSAGE, now=T0)
    [one, two] = await claim_due(session=session, worker="dead", limit=2, now=T0)
    assert await mark_sent(session=session, row_id=two.id, message_ids=[7], now=T0) is True
    # The sender died (SIGKILL) before recording the first: its row stays 'sending'
    assert await claim_due(session=session, worker="b", limit=5, now=T0 + timedelta(seconds=59)) == []
    [again] = await claim_due(session=session, worker="b", limit=5, now=T0 + timedelta(seconds=60))
    assert again.id == one.id
    assert (again.status, again.claimed_by, again.attempts) == (OutboxStatus.SENDING, "b", 1)  # the lost attempt
    assert await claim_due(session=session, worker="c", limit=5, now=T0 + timedelta(seconds=90)) == []
    [late] = await claim_due(
        session=session, worker="c", limit=5, now=T0 + timedelta(seconds=90), lease=timedelta(seconds=10)
    )
    assert late.claimed_by == "c" and late.attempts == 2


async def test_a_digest_in_parts_resumes_after_the_parts_sent(session: AsyncSession) -> None:
    await enqueue(session=session, kind="digest", key="k", chat_ids=[1], payload=[MESSAGE] * 3, now=T0)
    [row] = await claim_due(session=session, worker="a", limit=1, now=T0)
    assert await mark_progress(session=session, row_id=row.id, message_ids=[11]) is True
    # Flood control after the second part: back to pending, the attempt not counted.
    later = T0 + timedelta(seconds=5)
    assert await mark_retry(
        session=session,
        row_id=row.id,
        error="RetryAfter 5",
        next_attempt_at=later,
        message_ids=[11, 12],
        count_attempt=False,
    )
    assert await mark_progress(session=session, row_id=row.id, message_ids=[11, 12, 13]) is False  # not claimed
    [again] = await claim_due(session=session, worker="b", limit=1, now=later)
    assert (again.telegram_message_ids, again.attempts, again.status) == ([11, 12], 0, OutboxStatus.SENDING)
    assert await mark_sent(session=session, row_id=again.id, message_ids=[11, 12, 13]) is True
    await session.refresh(again)
    assert (again.telegram_message_ids, again.attempts, again.status) == ([11, 12, 13], 1, OutboxStatus.SENT)


# SQLite has one writer: a second claim waits for the first transaction (BEGIN IMMEDIATE), which
# the concurrent-senders test covers; skipping locked rows is PostgreSQL's.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_second_transaction_skips_rows_being_claimed(engine: AsyncEngine, session: AsyncSession) -> None:
    async with session.begin():
        await enqueue(session=session, kind="digest", key="k", chat_ids=range(1, 6), payload=MESSAGE, now=T0)
    sessions = make_sessionmaker(engine)
    async with sessions() as first, first.begin():
        mine = await claim_due(session=first, worker="a", limit=3, now=T0)
        async with sessions() as second, second.begin():
            # Not waiting for `first` to commit: its rows are locked, so skipped.
            theirs = await asyncio.wait_for(claim_due(session=second, worker="b", limit=10, now=T0), timeout=5)
    assert [r.chat_id for r in mine] == [1, 2, 3]
    assert [r.chat_id for r in theirs] == [4, 5]


async def test_concurrent_senders_never_claim_a_row_twice(engine: AsyncEngine, session: AsyncSession) -> None:
    async with session.begin():
        await enqueue(session=session, kind="announcement", key="1", chat_ids=range(300), payload=MESSAGE, now=T0)
    sessions = make_sessionmaker(engine)

    async def sender(name: str) -> list[int]:
        claimed: list[int] = []
        while True:
            async with sessions() as s, s.begin():
                rows = await claim_due(session=s, worker=name, limit=7, now=T0)
            if not rows:
                return claimed
            claimed += [r.id for r in rows]
            await asyncio.sleep(0)

    results = await asyncio.gather(*(sender(f"w{i}") for i in range(5)))
    everything = [row_id for claimed in results for row_id in claimed]
    assert len(everything) == len(set(everything)) == 300


async def test_many_sent_rows_are_recorded_in_one_statement(session: AsyncSession) -> None:
    for chat_id in (1, 2, 3):
        await _subscribe(session, chat_id)
    await enqueue(session=session, kind="announcement", key="8", chat_ids=[1, 2, 3], payload=MESSAGE, now=T0)
    first, second, third = await claim_due(session=session, worker="a", limit=3, now=T0)
    assert await mark_sent(session=session, row_id=first.id, message_ids=[5], now=T0) is True

    later = T0 + timedelta(seconds=1)
    # The first row is already recorded: a second report of it changes nothing.
    sent = [(first.id, [9]), (second.id, [6]), (third.id, [7, 8])]
    assert await mark_sent_many(session=session, sent=sent, now=later) == 2
    assert await mark_sent_many(session=session, sent=[]) == 0

    rows = (await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars().all()
    for row in rows:
        await session.refresh(row)
    assert [(r.status, r.telegram_message_ids, r.sent_at, r.attempts) for r in rows] == [
        (OutboxStatus.SENT, [5], T0, 1),
        (OutboxStatus.SENT, [6], later, 1),
        (OutboxStatus.SENT, [7, 8], later, 1),
    ]


async def test_results_are_recorded_and_tallied(session: AsyncSession) -> None:
    for chat_id in (1, 2, 3, 4):
        await _subscribe(session, chat_id)
    await enqueue(session=session, kind="announcement", key="7", chat_ids=[1, 2, 3, 4], payload=MESSAGE, now=T0)
    await enqueue(session=session, kind="digest", key="2026-11-28", chat_ids=[4], payload=MESSAGE, now=T0)
    sent, retried, failed, blocked = await claim_due(session=session, worker="a", limit=4, now=T0)
    retry_at = T0 + timedelta(seconds=30)

    assert await mark_sent(session=session, row_id=sent.id, message_ids=[101, 102], now=T0) is True
    assert await mark_retry(session=session, row_id=retried.id, error="RetryAfter 30", next_attempt_at=retry_at) is True
    assert await mark_failed(session=session, row_id=failed.id, error="BadRequest: chat not found") is True
    assert await mark_blocked_row(session=session, row_id=blocked.id, error="Forbidden: bot was blocked") is True
    # Only a claimed row changes: a late report about a finished one changes nothing.
    assert await mark_failed(session=session, row_id=sent.id, error="late") is False
    assert await mark_retry(session=session, row_id=failed.id, error="late", next_attempt_at=T0) is False

    rows = {
        r.chat_id: r
        for r in (await session.execute(select(OutboxRow).where(OutboxRow.kind == "announcement"))).scalars()
    }
    await session.refresh(rows[1])
    await session.refresh(rows[2])
    assert (rows[1].status, rows[1].telegram_message_ids, rows[1].sent_at, rows[1].attempts) == (
        OutboxStatus.SENT,
        [101, 102],
        T0,
        1,
    )
    assert (rows[2].status, rows[2].attempts, rows[2].next_attempt_at, rows[2].last_error, rows[2].claimed_by) == (
        OutboxStatus.PENDING,
        1,
        retry_at,
        "RetryAfter 30",
        None,
    )
    assert await outbox_tally(session=session, kind="announcement", key="7") == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENDING: 0,
        OutboxStatus.SENT: 1,
        OutboxStatus.BLOCKED: 1,
        OutboxStatus.FAILED: 1,
    }
    # The blocked chat is inactive, and its other unsent row is blocked with it.
    chat_four = await get_subscriber(session=session, chat_id=4)
    assert chat_four is not None and not chat_four.active and chat_four.blocked_at is not None
    assert (await outbox_tally(session=session, kind="digest", key="2026-11-28"))[OutboxStatus.BLOCKED] == 1
    assert await pending_count(session=session) == 1
    assert await claim_due(session=session, worker="a", limit=10, now=T0) == []
    [again] = await claim_due(session=session, worker="a", limit=10, now=retry_at)
    assert again.id == retried.id
    # A success reported after the row was taken back (the lease ran out) is still recorded.
    assert await mark_sent(session=session, row_id=again.id, message_ids=[103]) is True
    assert await mark_sent(session=session, row_id=again.id, message_ids=[104]) is False
    assert await outbox_backlog(session=session) == {
        OutboxStatus.PENDING: 0,
        OutboxStatus.SENDING: 0,
        OutboxStatus.SENT: 2,
        OutboxStatus.BLOCKED: 2,
        OutboxStatus.FAILED: 1,
    }


async def test_a_group_that_became_a_supergroup_keeps_its_subscription_and_messages(session: AsyncSession) -> None:
    old, new = -4001, -1004001
    await subscribe(session=session, chat_id=old, user_id=5, kind="group", language="zh")
    group = await get_subscriber(session=session, chat_id=old)
    assert group is not None
    await add_filter(session=session, subscriber_id=group.id, keyword="长江")
    await enqueue(session=session, kind="digest", key="2026-11-27", chat_ids=[old], payload=MESSAGE, now=T0)
    [done] = await claim_due(session=session, worker="a", limit=1, now=T0)
    await mark_sent(session=session, row_id=done.id, message_ids=[1])
    await enqueue(session=session, kind="digest", key="2026-11-28", chat_ids=[old], payload=MESSAGE, now=T0)
    await enqueue(session=session, kind="announcement", key="3", chat_ids=[old, new], payload=MESSAGE, now=T0)

    assert await migrate_chat(session=session, old_chat_id=old, new_chat_id=new) == 1
    moved = await get_subscriber(session=session, chat_id=new)
    assert moved is not None and moved.kind == SubscriberKind.SUPERGROUP and moved.active
    assert await get_subscriber(session=session, chat_id=old) is None
    assert moved.id == group.id
    assert [f.keyword for f in await list_filters(session=session, subscriber_id=moved.id)] == ["长江"]
    rows = (
        await session.execute(select(OutboxRow.key, OutboxRow.chat_id, OutboxRow.status).order_by(OutboxRow.id))
    ).all()
    assert [tuple(r) for r in rows] == [
        ("2026-11-27", old, OutboxStatus.SENT),  # history stays where it happened
        ("2026-11-28", new, OutboxStatus.PENDING),
        ("3", new, OutboxStatus.PENDING),  # the new chat's own copy; the old one's is dropped
    ]

    # The new chat had subscribed by itself already: it is kept, the old one goes.
    await subscribe(session=session, chat_id=-5001, user_id=5, kind="group", language="zh")
    await subscribe(session=session, chat_id=-1005001, user_id=6, kind="supergroup", language="en")
    assert await migrate_chat(session=session, old_chat_id=-5001, new_chat_id=-1005001) == 0
    assert await get_subscriber(session=session, chat_id=-5001) is None
    kept = await get_subscriber(session=session, chat_id=-1005001)
    assert kept is not None and kept.language == "en"


# Announcements, reports, channels, stats ---------------------------------------------------------


async def test_announcements_start_once(session: AsyncSession) -> None:
    first = await create_announcement(session=session, author_user_id=1, text="停水通知", now=T0)
    second = await create_announcement(session=session, author_user_id=1, text="停电通知", now=T0)
    assert first.status == AnnouncementStatus.DRAFT and second.id > first.id
    assert await update_announcement(
        session=session, announcement_id=first.id, preview_chat_id=1, preview_message_id=55
    )
    for started in (True, False):  # two admins press "send": one broadcast starts
        moved = await set_announcement_status(
            session=session, announcement_id=first.id, status="sending", expected="draft"
        )
        assert moved is started
    got = await get_announcement(session=session, announcement_id=first.id)
    assert got is not None
    assert (got.status, got.text, got.preview_chat_id, got.preview_message_id) == ("sending", "停水通知", 1, 55)
    assert [a.id for a in await list_announcements(session=session)] == [second.id, first.id]
    assert [a.id for a in await list_announcements(session=session, status="draft")] == [second.id]
    assert await set_announcement_status(session=session, announcement_id=first.id, status="done") is True
    assert await set_announcement_status(session=session, announcement_id=999, status="done") is False
    assert await update_announcement(session=session, announcement_id=999, text="?") is False


async def test_reports_get_increasing_ticket_numbers(session: AsyncSession) -> None:
    tickets = [
        await create_report(session=session, user_id=9, chat_id=9, text=f"举报{i}", username="zhang", name="张三")
        for i in range(3)
    ]
    numbers = [t.id for t in tickets]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert [r.id for r in await recent_reports(session=session, limit=2)] == numbers[:0:-1]
    assert await mark_report_forwarded(session=session, report_id=numbers[0]) is True
    assert await mark_report_forwarded(session=session, report_id=numbers[0]) is False
    assert [r.id for r in await reports_to_forward(session=session)] == numbers[1:]
    got = await get_report(session=session, report_id=numbers[1])
    assert got is not None and (got.text, got.username, got.name, got.forwarded) == (
        "举报1",
        "zhang",
        "张三",
        False,
    )


async def test_a_notice_message_names_its_report_until_answered(session: AsyncSession) -> None:
    first, second = [await create_report(session=session, user_id=9, chat_id=9, text=f"举报{i}") for i in range(2)]
    for report in (first, second):
        await enqueue(session=session, kind=OutboxKind.REPORT, key=str(report.id), chat_ids=[1, 2], payload=MESSAGE)
    # The sender records what Telegram numbered each notice, per admin chat; message 7 in chat 2 is #2's.
    rows = {(r.key, r.chat_id): r.id for r in await claim_due(session=session, worker="w", limit=10)}
    await mark_sent_many(session=session, sent=[(rows[str(first.id), 2], [6]), (rows[str(second.id), 2], [7])])
    await enqueue(session=session, kind=OutboxKind.ANNOUNCEMENT, key="1", chat_ids=[2], payload=MESSAGE)
    found = await report_of_notice(session=session, chat_id=2, message_id=7)
    assert found is not None and found.id == second.id
    assert await report_of_notice(session=session, chat_id=1, message_id=7) is None  # another admin's chat
    assert await report_of_notice(session=session, chat_id=2, message_id=8) is None
    assert await count_reports(session=session) == (2, 0)
    await answer_report(session=session, report_id=second.id, answer="已处理", answered_by=2, now=T0)
    got = await get_report(session=session, report_id=second.id)
    assert got is not None and (got.answer, got.answered_by, got.answered_at) == ("已处理", 2, T0)
    assert await count_reports(session=session) == (1, 1)


async def test_channels_are_bound_rebound_and_unbound(session: AsyncSession) -> None:
    first = await bind_channel(session=session, chat_id=-1001, title="荆州要闻", bound_by=1)
    await bind_channel(session=session, chat_id=-1002, title="湖北要闻", bound_by=1, username="hubei")
    again = await bind_channel(session=session, chat_id=-1001, title="荆州新闻", bound_by=2)
    assert again.id == first.id and (again.title, again.bound_by) == ("荆州新闻", 2)
    assert [c.chat_id for c in await active_channels(session=session)] == [-1001, -1002]
    assert await unbind_channel(session=session, chat_id=-1001) is True
    assert await unbind_channel(session=session, chat_id=-1001) is False
    assert await mark_blocked(session=session, chat_id=-1002) is True  # the bot was removed from it
    assert await active_channels(session=session) == []
    rebound = await bind_channel(session=session, chat_id=-1001, title="荆州新闻", bound_by=2)
    assert rebound.active


async def test_delivery_stats(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    for chat_id, kind in [(1, "private"), (2, "private"), (-3, "group"), (4, "private")]:
        await subscribe(session=session, chat_id=chat_id, user_id=None, kind=kind, language="zh")
    await unsubscribe(session=session, chat_id=2)
    await bind_channel(session=session, chat_id=-100, title="频道", bound_by=1)
    await enqueue(
        session=session, kind="announcement", key="1", chat_ids=[1, -3, 4], payload=MESSAGE, now=now - timedelta(days=2)
    )
    one, three, four = await claim_due(session=session, worker="a", limit=3, now=now - timedelta(days=2))
    await mark_sent(session=session, row_id=one.id, message_ids=[1], now=now - timedelta(days=2))
    await mark_sent(session=session, row_id=three.id, message_ids=[2], now=now - timedelta(hours=1))
    await mark_blocked_row(session=session, row_id=four.id, error="Forbidden", now=now - timedelta(hours=1))
    await enqueue(session=session, kind="digest", key="d", chat_ids=[1], payload=MESSAGE, now=now)

    stats = await delivery_stats(session=session, since=now - timedelta(days=1))
    zero = dict.fromkeys(OutboxStatus, 0)
    assert stats.outbox_total == zero | {OutboxStatus.SENT: 2, OutboxStatus.BLOCKED: 1, OutboxStatus.PENDING: 1}
    assert stats.outbox_recent == zero | {OutboxStatus.SENT: 1, OutboxStatus.BLOCKED: 1, OutboxStatus.PENDING: 1}
    assert (stats.subscribers_active, stats.subscribers_blocked, stats.subscribers_left) == (2, 1, 1)
    assert stats.subscribers_by_kind == dict.fromkeys(SubscriberKind, 0) | {
        SubscriberKind.PRIVATE: 1,
        SubscriberKind.GROUP: 1,
    }
    assert stats.channels_active == 1
