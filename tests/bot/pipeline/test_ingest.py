"""The ingest pipeline end to end: a local news site over HTTP into SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.pipeline import (
    FAILED,
    NOT_ARTICLE,
    Analysis,
    Analyzer,
    IngestTally,
    backoff_interval,
    ingest_page,
    ingest_source,
    ingest_targets,
    ingest_urls,
    resummarize_all,
)
from ingest import Article, Contact, FetchConfig, Fetcher, NotAnArticle, Source, SourceKind, simhash
from storage import (
    ArticleRecord,
    StoreOutcome,
    SubscriberKind,
    articles_for_digest,
    ensure_source,
    get_fetch_state,
    index_text,
    latest_articles,
    list_sources_health,
    make_sessionmaker,
    save_summary,
    search_articles,
    store_article,
    subscribe,
)
from summarizer import VERSION, summarize
from tests.conftest import DATA
from tests.pageserver import SAMPLES, PageServer

FAST = FetchConfig(connect_timeout=1, read_timeout=2, total_timeout=5, retries=0, delay=0, trust_env=False)


@pytest_asyncio.fixture
async def fetcher(page_server: PageServer) -> AsyncIterator[Fetcher]:
    """A fetcher that may reach the local test site, as a source naming 127.0.0.1 allows."""
    async with Fetcher(FAST, allow_private=[page_server.base]) as fetcher:
        yield fetcher


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


def listpage(server: PageServer, **extra: object) -> Source:
    return Source(
        name="清河新闻网",
        kind=SourceKind.LISTPAGE,
        url=server.url("/list.html"),
        link_pattern=r"/pages/[\w-]+\.html$",
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.asyncio
async def test_listpage_run_stores_summarised_articles_once(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = listpage(page_server)
    first = await ingest_source(source, fetcher=fetcher, sessions=sessions)
    assert first.counts["new"] == 3  # county (GBK, no label), yunnan, cnr; links deduplicated
    assert first.errors == [f"HTTP 404: {page_server.url('/pages/about-us.html')}"]
    again = await ingest_source(source, fetcher=fetcher, sessions=sessions)
    assert again.counts["unchanged"] == 3  # the text is the same: nothing written
    assert again.counts["new"] == 0
    async with sessions() as session:
        stored = await latest_articles(session=session, limit=10)
        found = await search_articles(session=session, words="汛期安全", limit=10)
    assert len(stored) == 3
    assert all(row.summary is not None and row.summary.version == VERSION for row in stored)
    assert [row.title for row in found] == ["清河县召开汛期安全生产工作会议"]


@pytest.mark.asyncio
async def test_a_worker_process_summarises_as_this_process_does(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    analyzer = Analyzer(workers=1)
    try:
        tally = await ingest_source(listpage(page_server), fetcher=fetcher, sessions=sessions, analyzer=analyzer)
    finally:
        analyzer.close()
    assert tally.counts["new"] == 3
    async with sessions() as session:
        stored = await latest_articles(session=session, limit=10)
        found = await search_articles(session=session, words="汛期安全", limit=10)
        search_texts = [await session.scalar(select(ArticleRecord.search_text).filter_by(id=r.id)) for r in stored]
    # What came back from the worker is what summarising here gives, and the search words work.
    assert [row.summary.data for row in stored if row.summary] == [summarize(row).to_dict() for row in stored]
    assert search_texts == [index_text(row.title, row.paragraphs) for row in stored]
    assert [row.title for row in found] == ["清河县召开汛期安全生产工作会议"]


@pytest.mark.asyncio
async def test_feed_entries_are_fetched_as_pages(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = Source(name="feed", kind=SourceKind.RSS, url=page_server.url("/feed.rss"))
    tally = await ingest_source(source, fetcher=fetcher, sessions=sessions)
    assert tally.counts["new"] >= 2
    assert page_server.hits["/pages/yunnan-daily.html"] == 1  # the page, not the feed's summary


@pytest.mark.asyncio
async def test_conditional_get_sends_the_stored_validators(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = Source(name="cached", kind=SourceKind.PAGE, url=page_server.url("/cached"))
    assert (await ingest_source(source, fetcher=fetcher, sessions=sessions)).counts["new"] == 1
    assert (await ingest_source(source, fetcher=fetcher, sessions=sessions)).counts["unchanged"] == 1
    second = [hit for hit in page_server.log if hit.path == "/cached"][1]
    assert second.headers.get("If-None-Match") == '"v1"'
    async with sessions() as session:
        state = await get_fetch_state(session=session, url=page_server.url("/cached"))
    assert state is not None
    assert state.last_status == 304


@pytest.mark.asyncio
async def test_a_repost_under_another_url_is_a_duplicate(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    urls = [page_server.url("/pages/yunnan-daily.html"), page_server.url("/pages/yunnan-daily-nocharset.html")]
    source = Source(name="two", kind=SourceKind.PAGE, url=urls[0])
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name="two", kind="page", url=urls[0])
    tally = await ingest_urls(urls, source, source_id, fetcher=fetcher, sessions=sessions)
    assert (tally.counts["new"], tally.counts["duplicate"]) == (1, 1)
    async with sessions() as session:
        assert len(await latest_articles(session=session)) == 1  # listed once


@pytest.mark.asyncio
async def test_broken_pages_fail_alone(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    urls = [
        page_server.url("/garbage"),
        page_server.url("/loop/a"),
        page_server.url("/flaky?failures=5"),
        page_server.url("/pages/cnr-gbk.html"),
    ]
    source = Source(name="mixed", kind=SourceKind.PAGE, url=urls[-1])
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name="mixed", kind="page", url=urls[-1])
    seen: dict[str, str] = {}
    tally = await ingest_urls(
        urls,
        source,
        source_id,
        fetcher=fetcher,
        sessions=sessions,
        progress=lambda url, outcome: seen.update({url: outcome}),
    )
    assert tally.counts[FAILED] == 3
    assert tally.counts["new"] == 1
    # Progress reports each page once, as it finishes (several are in flight at once).
    assert seen == dict(zip(urls, [FAILED, FAILED, FAILED, "new"], strict=True))
    assert any("HTTP 500" in error for error in tally.errors)
    async with sessions() as session:
        state = await get_fetch_state(session=session, url=page_server.url("/flaky?failures=5"))
    assert state is not None
    assert state.last_status == 500


@pytest.mark.asyncio
async def test_failing_source_is_counted_and_backs_off(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    source = Source(name="not-a-feed", kind=SourceKind.RSS, url=page_server.url("/garbage"))
    for _ in range(10):
        tally = await ingest_source(source, fetcher=fetcher, sessions=sessions)
        assert tally.counts[FAILED] == 1
    assert tally.next_in == source.interval * 2
    async with sessions() as session:
        (health,) = await list_sources_health(session=session)
    assert health.consecutive_failures == 10
    assert health.last_error


def test_backoff_grows_then_caps() -> None:
    every = timedelta(minutes=30)
    assert backoff_interval(every, 0) == every
    assert backoff_interval(every, 9) == every
    assert backoff_interval(every, 10) == every * 2
    assert backoff_interval(every, 12) == every * 8
    assert backoff_interval(every, 100) == every * 16


@pytest.mark.asyncio
async def test_configured_contacts_join_the_page_ones(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    hotline = Contact.of("违法和不良信息举报", "0312-1234567")
    source = Source(name="p", kind=SourceKind.PAGE, url=page_server.url("/pages/cnr-gbk.html"), contacts=(hotline,))
    await ingest_source(source, fetcher=fetcher, sessions=sessions)
    async with sessions() as session:
        (row,) = await latest_articles(session=session)
    assert {"label": "违法和不良信息举报", "value": "0312-1234567", "kind": "phone"} in row.contacts


@pytest.mark.asyncio
async def test_files_named_on_the_command_line(fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]) -> None:
    seed = str(SAMPLES / "jingzhou-2023-07-13.txt")
    tally = await ingest_targets([seed, "/no/such/file.txt"], fetcher=fetcher, sessions=sessions)
    assert (tally.counts["new"], tally.counts[FAILED]) == (1, 1)
    assert "no such file" in tally.errors[0]


@pytest.mark.asyncio
async def test_resummarize_recomputes_old_versions(
    fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await ingest_targets([str(SAMPLES / "jingzhou-2023-07-13.txt")], fetcher=fetcher, sessions=sessions)
    async with sessions() as session:
        (row,) = await latest_articles(session=session)
    old = summarize(row)
    async with sessions.begin() as session:
        await save_summary(session=session, article_id=row.id, summary=replace(old, version="0"))
    assert await resummarize_all(sessions=sessions) == 1
    assert await resummarize_all(sessions=sessions) == 0


@pytest.mark.asyncio
async def test_resummarize_reindexes_what_an_older_segmentation_indexed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    article = Article(title="荆州部署流域综合治理", paragraphs=["全市推进流域综合治理。"], url="https://a/1")
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name="荆州新闻网", kind="listpage", url="https://a/")
        stored = await store_article(
            session=session,
            source_id=source_id,
            article=article,
            raw_html=None,
            simhash=simhash(article.text),
            summary=replace(summarize(article), version="1.0.0"),
            fetched_at=datetime.now(UTC),
            # As a segmentation without search-mode pieces indexed it: 综合治理 whole, no 治理 of its own.
            search_text="荆州 部署 流域 综合治理 全市 推进 流域 综合治理",
        )

    async def found(words: str) -> list[int]:
        async with sessions() as session:
            return [a.id for a in await search_articles(session=session, words=words)]

    assert await found("治理") == []
    assert await resummarize_all(sessions=sessions) == 1
    assert await found("治理") == [stored.article_id]
    async with sessions() as session:
        search_text = await session.scalar(select(ArticleRecord.search_text).filter_by(id=stored.article_id))
    assert search_text == index_text(article.title, article.paragraphs)


@pytest.mark.asyncio
async def test_source_time_zone_reads_zoneless_dates(
    fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text(
        "乌鲁木齐召开会议\n来源：天山网 2024-06-03 10:00\n会议强调，要抓好安全生产。\n", encoding="utf-8"
    )
    source = Source(name="urumqi", kind=SourceKind.DIR, url=str(tmp_path), timezone="Asia/Urumqi")
    await ingest_source(source, fetcher=fetcher, sessions=sessions)
    async with sessions() as session:
        (row,) = await latest_articles(session=session)
    assert row.published_at is not None
    assert row.published_at.isoformat() == "2024-06-03T04:00:00+00:00"  # 10:00 at UTC+6


@pytest.mark.asyncio
async def test_on_sqlite_every_run_on_one_database_shares_one_write_turn(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], fetcher: Fetcher, page_server: PageServer
) -> None:
    """Sources running together are one writer on SQLite, whose busy wait is unfair to the outbox
    beside them; on PostgreSQL they write at once (rows are locked, not the file)."""
    from bot.pipeline._ingest import _Run  # the mechanism: what the soak's "database is locked" errors came from

    runs = [_Run.of(replace(listpage(page_server), name=f"源{n}"), n, fetcher, sessions, Analyzer(0)) for n in range(3)]
    turns = {id(run.turn) for run in runs}
    if engine.dialect.name == "sqlite":
        assert len(turns) == 1
        other = create_async_engine("sqlite+aiosqlite://")  # another database: a turn of its own
        assert _Run.of(runs[0].source, 0, fetcher, make_sessionmaker(other), Analyzer(0)).turn is not runs[0].turn
        await other.dispose()
    else:
        assert all(not isinstance(run.turn, asyncio.Lock) for run in runs)


class RecordingAnalyzer(Analyzer):
    """Summarise in a thread, as by default, and remember the URL of every article summarised."""

    def __init__(self) -> None:
        super().__init__(0)
        self.seen: list[str | None] = []

    async def __call__(self, article: Article) -> Analysis:
        self.seen.append(article.url)
        return await super().__call__(article)


@pytest.mark.asyncio
async def test_an_index_page_is_counted_but_never_summarised_stored_or_digested(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    article, index = page_server.url("/pages/yunnan-daily.html"), page_server.url("/pages/journal-issue.html")
    source = Source(name="学刊", kind=SourceKind.PAGE, url=article)
    async with sessions.begin() as session:
        source_id = await ensure_source(session=session, name=source.name, kind="page", url=article)
        subscriber = await subscribe(
            session=session,
            chat_id=1,
            user_id=1,
            kind=SubscriberKind.PRIVATE,
            language="zh",
            now=datetime(2020, 1, 1, tzinfo=UTC),
        )
    analyzer = RecordingAnalyzer()
    seen: dict[str, str] = {}
    tally = await ingest_urls(
        [article, index],
        source,
        source_id,
        fetcher=fetcher,
        sessions=sessions,
        analyzer=analyzer,
        progress=lambda url, outcome: seen.update({url: outcome}),
    )
    assert (tally.counts["new"], tally.counts[NOT_ARTICLE], tally.total) == (1, 1, 2)
    assert tally.errors == []  # no article is no error of the run
    assert seen == {article: "new", index: NOT_ARTICLE}
    assert analyzer.seen == [article]
    async with sessions() as session:
        stored = await latest_articles(session=session, limit=10)
        digest = await articles_for_digest(
            session=session, subscriber=subscriber, since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime.now(UTC)
        )
        state = await get_fetch_state(session=session, url=index)
    assert [row.url for row in stored] == [article]
    assert [row.url for row in digest] == [article]
    assert state is not None
    assert state.etag is None and state.last_error == "no article text in the page"


@pytest.mark.asyncio
async def test_a_page_of_furniture_is_refused_and_read_afresh_next_time(
    page_server: PageServer, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
) -> None:
    url = page_server.url("/pages/icp-only.html")
    source = Source(name="清河县人民政府", kind=SourceKind.PAGE, url=url)
    # A user asks for it: the answer is that it holds no article (why_parse), not a stored one.
    cause, article_id = await ingest_page(url, source, fetcher=fetcher, sessions=sessions)
    assert isinstance(cause, NotAnArticle)
    assert article_id is None
    assert str(cause).startswith("not an article: only site furniture: 建议以IE8.0以上版本浏览器")
    again = await ingest_source(source, fetcher=fetcher, sessions=sessions)
    assert again.counts[NOT_ARTICLE] == 1  # judged again, not "unchanged"
    assert page_server.hits["/pages/icp-only.html"] == 2
    async with sessions() as session:
        assert await latest_articles(session=session) == []
        state = await get_fetch_state(session=session, url=url)
    assert state is not None
    assert (state.last_status, state.etag) == (200, None)


@pytest.mark.asyncio
async def test_a_stored_article_whose_page_is_now_no_article_is_left_alone(
    fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    page = tmp_path / "story.html"
    page.write_bytes((DATA / "verdict" / "local-story.html").read_bytes())
    source = Source(name="清河新闻网", kind=SourceKind.DIR, url=str(tmp_path))
    assert (await ingest_source(source, fetcher=fetcher, sessions=sessions)).counts["new"] == 1
    page.write_bytes((DATA / "verdict" / "icp-only.html").read_bytes())  # the site replaced the story
    tally = await ingest_source(source, fetcher=fetcher, sessions=sessions)
    assert (tally.counts[NOT_ARTICLE], tally.counts["updated"]) == (1, 0)
    async with sessions() as session:
        (row,) = await latest_articles(session=session)
    assert row.title == "城关镇为独居老人安装烟感报警器"
    assert len(row.paragraphs) == 3


def test_a_tally_reads_as_words() -> None:
    tally = IngestTally()
    assert str(tally) == "0 new, 0 failed"  # new and failed always: a quiet run says so
    for outcome in (StoreOutcome.NEW, StoreOutcome.NEW, NOT_ARTICLE, StoreOutcome.DUPLICATE, FAILED):
        tally.add(outcome)
    assert str(tally) == "2 new, 1 duplicate, 1 not article, 1 failed"
