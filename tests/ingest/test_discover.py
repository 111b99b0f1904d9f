"""Finding article URLs in feeds, list pages and folders, and the sources that describe them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from ingest import parse
from ingest._article import Contact, ContactKind
from ingest._decode import decode_html
from ingest._discover import canonical_url, discover
from ingest._fetch import FetchConfig, Fetcher
from ingest._sources import Source, SourceKind
from ingest.errors import DiscoverError
from tests.pageserver import PageServer

FAST = FetchConfig(connect_timeout=1.0, read_timeout=1.0, retries=0, delay=0.0, per_host=8, trust_env=False)


async def run(source: Source, **options: int) -> list[str]:
    """Discover with a fresh fetcher that may reach the source's (local) address."""
    async with Fetcher(FAST, allow_private=[source.url]) as fetcher:
        return await discover(source, fetcher, **options)


def listpage(server: PageServer, *, pattern: str | None = None, selector: str | None = None) -> Source:
    """Return the test site's list page as a source, picking links by pattern or selector."""
    url = server.url("/list.html")
    return Source(name="清河新闻网", kind=SourceKind.LISTPAGE, url=url, link_pattern=pattern, link_selector=selector)


@pytest.mark.asyncio
async def test_rss_entries_in_feed_order(page_server: PageServer) -> None:
    urls = await run(Source(name="feed", kind=SourceKind.RSS, url=page_server.url("/feed.rss")))
    assert urls == [
        page_server.url("/pages/county-gbk.html"),
        page_server.url("/pages/yunnan-daily.html?utm_source=rss"),
        page_server.url("/pages/cnr-gbk.html"),  # from <guid isPermaLink="true">
        # the file:// entry is dropped, and the last entry repeats the second without utm_source
    ]


@pytest.mark.asyncio
async def test_atom_relative_links_are_resolved(page_server: PageServer) -> None:
    urls = await run(Source(name="feed", kind=SourceKind.RSS, url=page_server.url("/feed.atom")))
    assert urls == [page_server.url("/pages/yunnan-daily.html"), page_server.url("/pages/county-gbk.html")]


@pytest.mark.asyncio
async def test_html_page_is_not_a_feed(page_server: PageServer) -> None:
    with pytest.raises(DiscoverError, match="not a feed"):
        await run(Source(name="feed", kind=SourceKind.RSS, url=page_server.url("/pages/yunnan-daily.html")))


@pytest.mark.asyncio
async def test_listpage_links_by_pattern(page_server: PageServer) -> None:
    pattern = re.escape(page_server.base) + r"/pages/(?!about)"
    urls = await run(listpage(page_server, pattern=pattern))
    assert urls == [
        page_server.url("/pages/county-gbk.html"),  # fragment dropped
        page_server.url("/pages/yunnan-daily.html?utm_source=list&utm_medium=web"),  # relative href
        page_server.url("/pages/cnr-gbk.html"),
        # the later yunnan and cnr links differ only by tracking parameters
    ]


@pytest.mark.asyncio
async def test_listpage_pattern_sees_every_http_link_of_the_site(page_server: PageServer) -> None:
    urls = await run(listpage(page_server, pattern=r"/pages/"))
    assert urls[-1] == page_server.url("/pages/about-us.html")
    # Another site's links are its news, not this source's, and never fetched.
    assert not any("other.example.cn" in url for url in urls)
    assert not any(url.startswith(("file:", "javascript:", "mailto:")) for url in urls)


@pytest.mark.asyncio
async def test_listpage_links_by_selector(page_server: PageServer) -> None:
    # The selector picks list items; the links inside them are taken.
    items = await run(listpage(page_server, selector="ul.news li"))
    assert items == [
        page_server.url("/pages/county-gbk.html"),
        page_server.url("/pages/yunnan-daily.html?utm_source=list&utm_medium=web"),
        page_server.url("/pages/cnr-gbk.html"),
    ]
    hot = await run(listpage(page_server, selector="div.hot a"))
    assert hot == [page_server.url("/pages/cnr-gbk.html?spm=hot.1")]


@pytest.mark.asyncio
async def test_limit_keeps_the_first_urls(page_server: PageServer) -> None:
    urls = await run(listpage(page_server, selector="ul.news a"), limit=2)
    assert urls == [
        page_server.url("/pages/county-gbk.html"),
        page_server.url("/pages/yunnan-daily.html?utm_source=list&utm_medium=web"),
    ]


@pytest.mark.asyncio
async def test_listpage_to_articles(page_server: PageServer) -> None:
    async with Fetcher(FAST, allow_private=[page_server.base]) as fetcher:
        urls = await discover(listpage(page_server, selector="ul.news li"), fetcher)
        responses = [await fetcher.fetch(url) for url in urls]
    titles = [parse(decode_html(r.content, declared=r.charset), url=r.url).title for r in responses]
    assert titles == [
        "清河县召开汛期安全生产工作会议",
        "17种产品、1个园区入选国家绿色制造名单",
        "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》",
    ]


@pytest.mark.asyncio
async def test_page_source_is_its_own_url(page_server: PageServer) -> None:
    url = page_server.url("/pages/cnr-gbk.html")
    assert await run(Source(name="one", kind=SourceKind.PAGE, url=url)) == [url]
    assert not page_server.hits  # nothing to fetch until the article itself


@pytest.mark.asyncio
async def test_dir_lists_pages_and_dumps_by_name(tmp_path: Path) -> None:
    for name in ("b.html", "a.txt", "C.HTM", ".backup.html", "notes.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub.html").mkdir()
    urls = await run(Source(name="saved", kind=SourceKind.DIR, url=str(tmp_path)))
    assert [Path(url2pathname(urlsplit(url).path)) for url in urls] == [
        tmp_path / "C.HTM",
        tmp_path / "a.txt",
        tmp_path / "b.html",
    ]
    assert all(url.startswith("file:///") for url in urls)


@pytest.mark.asyncio
async def test_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DiscoverError, match="not a folder"):
        await run(Source(name="saved", kind=SourceKind.DIR, url=str(tmp_path / "missing")))


@pytest.mark.asyncio
async def test_limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="limit"):
        await run(Source(name="saved", kind=SourceKind.DIR, url=str(tmp_path)), limit=0)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://News.Example.CN:80/a/1.html#comments", "http://news.example.cn/a/1.html"),
        ("https://example.cn:443", "https://example.cn/"),
        ("https://example.cn:8443/a", "https://example.cn:8443/a"),
        (
            "https://example.cn/a?utm_source=wx&id=7&spm=a.b&from=singlemessage&isappinstalled=0&share_token=x&page=2",
            "https://example.cn/a?id=7&page=2",
        ),
        ("https://example.cn/a?b=2&a=1&b=1", "https://example.cn/a?a=1&b=2&b=1"),  # repeats keep their order
        ("https://example.cn/a?kw=%D6%D0%CE%C4&x=1", "https://example.cn/a?kw=%D6%D0%CE%C4&x=1"),  # GBK escapes kept
        ("https://example.cn/Path/Case?", "https://example.cn/Path/Case"),
        ("https://user@Example.cn/a", "https://user@example.cn/a"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_is_idempotent() -> None:
    url = "HTTPS://Example.cn:443/a?z=1&utm_medium=x&a=2#top"
    assert canonical_url(canonical_url(url)) == canonical_url(url) == "https://example.cn/a?a=2&z=1"


def test_source_defaults_and_coercions() -> None:
    contact = Contact("举报电话", "0312-1234567", ContactKind.PHONE)
    source = Source(name="清河", kind="rss", url="https://qh.example.cn/rss.xml", contacts=[contact])  # type: ignore[arg-type]
    assert source.kind is SourceKind.RSS
    assert source.interval == timedelta(minutes=30)
    assert source.timezone == "Asia/Shanghai"
    assert source.contacts == (contact,)
    assert hash(source)  # frozen and hashable: usable as a key for per-source state


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "name is empty"),
        ({"kind": "atom"}, "is not one of rss, listpage, page, dir"),
        ({"url": "qh.example.cn/rss.xml"}, "not an absolute http"),
        ({"url": "ftp://qh.example.cn/rss.xml"}, "not an absolute http"),
        ({"interval": timedelta(0)}, "interval must be positive"),
        ({"encoding": "gbk2"}, "unknown encoding"),
        ({"timezone": "Asia/Beijing"}, "unknown timezone"),
        ({"link_pattern": "/news/"}, "listpage sources only"),
        ({"kind": "listpage"}, "needs one of link_pattern or link_selector"),
        ({"kind": "listpage", "link_pattern": "x", "link_selector": "a"}, "needs one of"),
        ({"kind": "listpage", "link_pattern": "(unclosed"}, "link_pattern"),
        ({"kind": "listpage", "link_selector": "ul >> li"}, "link_selector"),
    ],
)
def test_source_validation(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"name": "清河", "kind": "rss", "url": "https://qh.example.cn/rss.xml"}
    with pytest.raises(ValueError, match=re.escape(message)):
        Source(**{**base, **fields})  # type: ignore[arg-type]


def test_dir_source_takes_a_path() -> None:
    assert Source(name="samples", kind=SourceKind.DIR, url="ingest/samples").url == "ingest/samples"
