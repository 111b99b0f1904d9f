"""Queries: storing once, duplicates as links, search in Chinese, resummarising, fetch and source health."""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ingest import Article, Author, Contact, ContactKind
from storage import (
    NEAR_DUPLICATE_BITS,
    ArticleRecord,
    StoreOutcome,
    StoreResult,
    article_count_by_source,
    articles_needing_summary,
    ensure_source,
    get_article,
    get_fetch_state,
    get_raw_html,
    latest_articles,
    list_sources_health,
    make_sessionmaker,
    recent_contacts,
    record_source_run,
    remember_search,
    save_fetch_state,
    save_summary,
    search_articles,
    searched_words,
    store_article,
)
from summarizer import Directive, Facts, RankedSentence, Summary

pytestmark = pytest.mark.asyncio

SHANGHAI = timezone(timedelta(hours=8))
FETCHED_AT = datetime(2023, 7, 13, 4, 0, tzinfo=UTC)
SIMHASH = 0xF0F0_1234_5678_9ABC  # top bit set: stored as a negative BIGINT
FAR = SIMHASH ^ (1 << 64) - 1  # every bit differs


def other(i: int) -> int:
    """Return the i-th SimHash of an unrelated text: 8 bits from SIMHASH, 16 from the others."""
    return SIMHASH ^ 0xFF << 8 * i


HTML = "<html><body><p>7月13日，中共荆州市委六届六次全体会议举行。</p></body></html>".encode() * 20


def make_article(
    url: str = "https://www.jingzhou.gov.cn/news/1.html",
    title: str = "荆州推进长江流域综合治理",
    paragraphs: tuple[str, ...] = (
        "7月13日，中共荆州市委六届六次全体会议举行。",
        "会议强调，要守底线，抓好长江大保护和防汛抗旱工作。",
    ),
    published_at: datetime | None = datetime(2023, 7, 13, 9, 30, tzinfo=SHANGHAI),
) -> Article:
    return Article(
        title=title,
        paragraphs=list(paragraphs),
        url=url,
        source="荆州日报",
        published_at=published_at,
        authors=[Author(role="记者", name="蒋斌")],
        editor="王敏",
        contacts=[Contact(label="举报电话", value="0716-8445200", kind=ContactKind.PHONE)],
        images=["https://www.jingzhou.gov.cn/images/1.jpg"],
    )


def make_summary(version: str = "1.0.0") -> Summary:
    return Summary(
        key_sentences=["7月13日，中共荆州市委六届六次全体会议举行。"],
        directives=[Directive(head="守底线", text="要守底线。", cue="要", paragraph=1)],
        keywords=["流域", "治理"],
        facts=Facts(date="7月13日", meeting="中共荆州市委六届六次全体会议"),
        ranking=[RankedSentence(text="7月13日，中共荆州市委六届六次全体会议举行。", score=0.5)],
        version=version,
    )


async def store(
    session: AsyncSession,
    article: Article,
    *,
    simhash: int = SIMHASH,
    version: str = "1.0.0",
    fetched_at: datetime = FETCHED_AT,
    source: str = "荆州新闻网",
    near_duplicate_bits: int = NEAR_DUPLICATE_BITS,
) -> StoreResult:
    source_id = await ensure_source(session=session, name=source, kind="listpage", url="https://jingzhou.gov.cn/")
    return await store_article(
        session=session,
        source_id=source_id,
        article=article,
        raw_html=HTML,
        simhash=simhash,
        summary=make_summary(version),
        fetched_at=fetched_at,
        near_duplicate_bits=near_duplicate_bits,
    )


async def test_an_article_without_an_outlet_is_credited_and_grouped_under_its_configured_source(
    session: AsyncSession,
) -> None:
    await store(session, make_article())
    # No 来源 on the page: its contacts go under the configured source's name.
    unnamed = replace(
        make_article(url="https://www.jingzhou.gov.cn/news/2.html", title="另一篇", paragraphs=("另一篇的正文。",)),
        source=None,
        contacts=[Contact.of("举报电话", "0716-8445200"), Contact.of("举报邮箱", "jb@jingzhou.gov.cn")],
    )
    second = await store(session, unnamed, simhash=other(1))
    stored = await get_article(session=session, article_id=second.article_id)
    assert stored is not None and (stored.source_name, stored.outlet) == (None, "荆州新闻网")  # credited: the source
    grouped = await recent_contacts(session=session)
    assert [(outlet, [c["value"] for c in contacts]) for outlet, contacts in grouped.items()] == [
        ("荆州新闻网", ["0716-8445200", "jb@jingzhou.gov.cn"]),  # newest first
        ("荆州日报", ["0716-8445200"]),
    ]


async def test_ensure_source_returns_one_id_and_follows_the_configuration(session: AsyncSession) -> None:
    first = await ensure_source(session=session, name="荆州新闻网", kind="listpage", url="https://a.example/")
    again = await ensure_source(session=session, name="荆州新闻网", kind="rss", url="https://b.example/rss")
    other = await ensure_source(session=session, name="湖北日报", kind="rss", url="https://c.example/rss")
    assert first == again != other
    [hubei, jingzhou] = await list_sources_health(session=session)
    assert (jingzhou.kind, jingzhou.url) == ("rss", "https://b.example/rss")
    assert hubei.name == "湖北日报"


async def test_new_then_unchanged_then_updated(session: AsyncSession) -> None:
    first = await store(session, make_article())
    assert first.outcome == StoreOutcome.NEW
    assert await store(session, make_article(), version="2.0.0") == StoreResult(
        StoreOutcome.UNCHANGED, first.article_id
    )
    stored = await get_article(session=session, article_id=first.article_id)
    assert stored is not None and stored.summary is not None
    assert stored.summary.version == "1.0.0"  # unchanged: nothing written, not even the summary

    edited = make_article(paragraphs=("7月13日，会议举行。", "会议强调，要守底线。"))
    later = FETCHED_AT + timedelta(hours=1)
    assert await store(session, edited, version="2.0.0", fetched_at=later) == StoreResult(
        StoreOutcome.UPDATED, first.article_id
    )
    stored = await get_article(session=session, article_id=first.article_id)
    assert stored is not None and stored.summary is not None
    assert stored.paragraphs == ["7月13日，会议举行。", "会议强调，要守底线。"]
    assert stored.summary.version == "2.0.0"
    assert stored.summary.data == make_summary("2.0.0").to_dict()
    assert (stored.fetched_at, stored.updated_at) == (FETCHED_AT, later)
    assert stored.authors == [{"role": "记者", "name": "蒋斌"}]
    assert stored.contacts == [{"label": "举报电话", "value": "0716-8445200", "kind": "phone"}]
    assert (stored.source_name, stored.editor) == ("荆州日报", "王敏")


async def test_the_same_text_at_another_url_is_stored_as_a_link(session: AsyncSession) -> None:
    original = await store(session, make_article())
    repost = await store(session, make_article(url="https://www.hubei.gov.cn/1.html"), simhash=0, source="湖北")
    assert repost.outcome == StoreOutcome.DUPLICATE
    assert repost.duplicate_of == original.article_id != repost.article_id
    row = await get_article(session=session, article_id=repost.article_id)
    assert row is not None
    assert (row.duplicate_of_id, row.paragraphs, row.summary) == (original.article_id, [], None)
    assert await get_raw_html(session=session, article_id=repost.article_id) is None
    assert [a.id for a in await latest_articles(session=session)] == [original.article_id]
    assert await article_count_by_source(session=session) == {"湖北": 1, "荆州新闻网": 1}
    # Fetched again, the repost is known: nothing written.
    again = await store(session, make_article(url="https://www.hubei.gov.cn/1.html"), simhash=0, source="湖北")
    assert again == StoreResult(StoreOutcome.UNCHANGED, repost.article_id, original.article_id)


@pytest.mark.parametrize(
    ("flips", "bits", "outcome"),
    [
        ((1, 1, 1, 0), 3, StoreOutcome.DUPLICATE),  # 3 bits apart: one band equal
        ((1, 1, 1, 1), 3, StoreOutcome.NEW),
        ((2, 2, 1, 1), 6, StoreOutcome.DUPLICATE),  # no band equal: found by probing 1-bit neighbours
        ((2, 2, 2, 1), 6, StoreOutcome.NEW),
    ],
)
async def test_near_duplicates_are_found_within_the_bits_given(
    session: AsyncSession, flips: tuple[int, ...], bits: int, outcome: StoreOutcome
) -> None:
    original = await store(session, make_article())
    near = SIMHASH ^ sum(1 << (16 * band + k) for band, n in enumerate(flips) for k in range(n))
    edited = make_article(url="https://www.hubei.gov.cn/2.html", title="荆州推进长江流域综合治理（图）")
    result = await store(session, edited, simhash=near, near_duplicate_bits=bits)
    assert result.outcome == outcome
    assert result.duplicate_of == (original.article_id if outcome == StoreOutcome.DUPLICATE else None)


async def test_out_of_range_fingerprints_are_refused(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="not a 64-bit value"):
        await store(session, make_article(), simhash=1 << 64)
    with pytest.raises(ValueError, match="near_duplicate_bits"):
        await store(session, make_article(), near_duplicate_bits=8)


async def test_a_repost_whose_text_changes_can_become_an_original(session: AsyncSession) -> None:
    await store(session, make_article())
    repost = await store(session, make_article(url="https://www.hubei.gov.cn/3.html"))
    assert repost.outcome == StoreOutcome.DUPLICATE
    rewritten = make_article(
        url="https://www.hubei.gov.cn/3.html", title="湖北部署防汛", paragraphs=("全省防汛会议召开。",)
    )
    result = await store(session, rewritten, simhash=FAR)
    assert result == StoreResult(StoreOutcome.UPDATED, repost.article_id)
    row = await get_article(session=session, article_id=repost.article_id)
    assert row is not None and row.summary is not None
    assert (row.duplicate_of_id, row.paragraphs) == (None, ["全省防汛会议召开。"])
    assert [a.id for a in await search_articles(session=session, words="湖北防汛")] == [repost.article_id]


async def test_raw_html_is_stored_compressed_and_read_back_whole(session: AsyncSession) -> None:
    result = await store(session, make_article())
    stored = (await session.execute(text("SELECT raw_html FROM articles"))).scalar_one()
    assert len(stored) < len(HTML) / 5
    assert zlib.decompress(stored) == HTML
    assert await get_raw_html(session=session, article_id=result.article_id) == HTML


async def test_datetimes_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        article_id = (await store(session, make_article())).article_id
        source_id = await ensure_source(session=session, name="荆州新闻网", kind="listpage", url="https://x/")
        await record_source_run(
            session=session, source_id=source_id, ok=True, next_run_at=FETCHED_AT, ran_at=FETCHED_AT
        )
    async with sessions() as session:
        row = await get_article(session=session, article_id=article_id)
        [source] = await list_sources_health(session=session)
    assert row is not None and row.summary is not None
    for value in (row.published_at, row.dated_at, row.fetched_at, row.summary.created_at, source.last_success_at):
        assert value is not None and value.tzinfo is UTC
    assert row.published_at == datetime(2023, 7, 13, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store(session, make_article(published_at=datetime(2023, 7, 13, 9, 30)))


async def test_the_caller_owns_the_transaction(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        async with session.begin():
            await store(session, make_article())
            await session.rollback()
        assert await latest_articles(session=session) == []


async def test_latest_articles_are_newest_first_with_summaries(session: AsyncSession) -> None:
    july = [datetime(2023, 7, day, tzinfo=UTC) for day in (1, 20)]
    older = await store(session, make_article(url="https://a/1", title="一", published_at=july[0]), simhash=other(1))
    undated = await store(session, make_article(url="https://a/2", title="二", published_at=None), simhash=other(2))
    newer = await store(session, make_article(url="https://a/3", title="三", published_at=july[1]), simhash=other(3))
    rows = await latest_articles(session=session)
    # Undated articles sort by when they were fetched (FETCHED_AT, 13 July).
    assert [r.id for r in rows] == [newer.article_id, undated.article_id, older.article_id]
    assert all(r.summary is not None for r in rows)
    assert [r.id for r in await latest_articles(session=session, limit=1, offset=1)] == [undated.article_id]


async def test_search_finds_chinese_words_segmented_like_the_articles(session: AsyncSession) -> None:
    river = await store(session, make_article())
    flood = await store(
        session,
        make_article(
            url="https://a/flood",
            title="湖北部署防汛抗旱",
            paragraphs=("全省防汛抗旱工作会议召开，强调流域治理。",),
            published_at=datetime(2023, 7, 20, tzinfo=UTC),
        ),
        simhash=other(1),
    )
    await store(session, make_article(url="https://b/repost"), simhash=0)  # a repost is not found twice

    async def found(words: str) -> list[int]:
        return [a.id for a in await search_articles(session=session, words=words)]

    # 流域综合治理 is cut 流域/综合治理: the query's 治理 still finds it.
    assert await found("流域治理") == [flood.article_id, river.article_id]
    assert await found("综合治理") == [river.article_id]
    assert await found("荆州 守底线") == [river.article_id]
    assert await found("防汛 不存在的词") == []
    assert await found(" ，。") == []
    assert await found('"OR 荆州') == []  # quotes and operators are words, not FTS syntax
    assert [a.id for a in await search_articles(session=session, words="流域治理", limit=1, offset=1)] == [
        river.article_id
    ]
    # An update re-indexes: the old words go, the new ones are found.
    await store(session, make_article(title="荆州部署秋粮生产", paragraphs=("秋粮生产会议召开。",)))
    assert await found("流域治理") == [flood.article_id]
    assert await found("秋粮") == [river.article_id]


async def test_searched_words_get_one_id_each(session: AsyncSession) -> None:
    china = await remember_search(session=session, words="中国")
    growth = await remember_search(session=session, words="发展")
    assert await remember_search(session=session, words="中国") == china != growth
    assert await searched_words(session=session, search_id=china) == "中国"
    assert await searched_words(session=session, search_id=growth + 1000) is None


async def test_articles_needing_summary_lists_stale_and_missing_ones(session: AsyncSession) -> None:
    first = await store(session, make_article(url="https://a/1", title="一"), simhash=other(1))
    second = await store(session, make_article(url="https://a/2", title="二"), simhash=other(2))
    await store(session, make_article(url="https://a/3", title="一"), simhash=other(1))  # a repost: never summarised

    async def needing(version: str, after_id: int = 0) -> list[int]:
        rows = await articles_needing_summary(session=session, version=version, after_id=after_id)
        return [r.id for r in rows]

    assert await needing("1.0.0") == []
    assert await needing("2.0.0") == [first.article_id, second.article_id]
    assert await needing("2.0.0", after_id=first.article_id) == [second.article_id]
    await save_summary(session=session, article_id=first.article_id, summary=make_summary("2.0.0"))
    assert await needing("2.0.0") == [second.article_id]
    await session.execute(text("DELETE FROM summaries"))
    assert await needing("1.0.0") == [first.article_id, second.article_id]


async def test_fetch_state_round_trip(session: AsyncSession) -> None:
    url = "https://www.jingzhou.gov.cn/news/"
    assert await get_fetch_state(session=session, url=url) is None
    later = FETCHED_AT + timedelta(minutes=30)
    await save_fetch_state(
        session=session,
        url=url,
        etag='W/"abc"',
        last_modified="Thu, 13 Jul 2023 04:00:00 GMT",
        status=200,
        error=None,
        next_check_at=later,
        checked_at=FETCHED_AT,
    )
    state = await get_fetch_state(session=session, url=url)
    assert state is not None
    assert (state.etag, state.last_modified, state.last_status, state.error_count) == (
        'W/"abc"',
        "Thu, 13 Jul 2023 04:00:00 GMT",
        200,
        0,
    )
    assert (state.checked_at, state.next_check_at) == (FETCHED_AT, later)

    # A 304 and failures keep the validators; failures count up.
    await save_fetch_state(session=session, url=url, etag=None, last_modified=None, status=304, error=None)
    for _ in range(2):
        await save_fetch_state(session=session, url=url, etag=None, last_modified=None, status=None, error="timed out")
    state = await get_fetch_state(session=session, url=url)
    assert state is not None
    assert (state.etag, state.last_status, state.error_count, state.last_error) == ('W/"abc"', None, 2, "timed out")
    assert state.checked_at.tzinfo is UTC and state.checked_at > FETCHED_AT

    # A fresh body without validators clears them, and success resets the count.
    await save_fetch_state(session=session, url=url, etag=None, last_modified=None, status=200, error=None)
    state = await get_fetch_state(session=session, url=url)
    assert state is not None
    assert (state.etag, state.last_modified, state.error_count, state.last_error) == (None, None, 0, None)


async def test_source_runs_count_consecutive_failures(session: AsyncSession) -> None:
    source_id = await ensure_source(session=session, name="荆州新闻网", kind="rss", url="https://a/rss")
    await ensure_source(session=session, name="湖北日报", kind="rss", url="https://b/rss")
    times = [FETCHED_AT + timedelta(minutes=10 * i) for i in range(4)]
    await record_source_run(session=session, source_id=source_id, ok=True, next_run_at=times[1], ran_at=times[0])
    for ran_at in times[1:3]:
        await record_source_run(
            session=session, source_id=source_id, ok=False, error="HTTP 503", next_run_at=ran_at, ran_at=ran_at
        )
    [hubei, jingzhou] = await list_sources_health(session=session)
    assert (hubei.consecutive_failures, hubei.last_run_at) == (0, None)
    assert (jingzhou.consecutive_failures, jingzhou.last_error) == (2, "HTTP 503")
    assert (jingzhou.last_success_at, jingzhou.last_run_at) == (times[0], times[2])

    await record_source_run(session=session, source_id=source_id, ok=True, next_run_at=times[3], ran_at=times[3])
    [_, jingzhou] = await list_sources_health(session=session)
    assert (jingzhou.consecutive_failures, jingzhou.last_error, jingzhou.last_success_at) == (0, None, times[3])
    assert jingzhou.next_run_at == times[3]
    assert await article_count_by_source(session=session) == {"湖北日报": 0, "荆州新闻网": 0}


async def test_two_writers_storing_one_url_store_it_once(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await store(session, make_article(url="https://a/other"), simhash=other(1))  # the source exists
    async with sessions() as first, sessions() as second:
        await first.begin()  # writers begin(): on SQLite that takes the write lock up front
        await store(first, make_article())  # not committed yet: the second writer cannot see it
        racing = asyncio.create_task(_begin_and_store(second, make_article()))
        try:
            await _until_blocked(engine, racing)
            await first.commit()
            result = await racing
        finally:
            racing.cancel()
        await second.commit()
    assert result.outcome == StoreOutcome.UNCHANGED
    async with sessions() as session:
        assert len((await session.execute(select(ArticleRecord.id))).all()) == 2


async def _begin_and_store(session: AsyncSession, article: Article) -> StoreResult:
    await session.begin()
    return await store(session, article)


async def _until_blocked(engine: AsyncEngine, task: asyncio.Task[StoreResult]) -> None:
    """Wait until `task` waits on the other writer's lock (PostgreSQL), or give it a moment (SQLite)."""
    if engine.dialect.name != "postgresql":
        await asyncio.sleep(0.2)
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND (query LIKE 'INSERT INTO articles%' OR query LIKE 'SELECT pg_advisory_xact_lock%')"
    )
    for _ in range(200):
        async with engine.connect() as connection:
            if (await connection.execute(query)).scalar():
                return
        assert not task.done(), task
        await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")
