"""Fetching from the local test site over real sockets: encodings, caching, retries, limits, politeness."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest import parse
from ingest._decode import decode_html
from ingest._fetch import FetchConfig, Fetcher, Response, _parse_retry_after
from ingest.errors import (
    ConnectionFailed,
    DecodeError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    IngestError,
    TooManyRedirects,
)
from tests.pageserver import ETAG, LAST_MODIFIED, PAGES, PageServer

# Small timeouts and backoff keep the file fast; no politeness unless a test asks for it.
FAST = FetchConfig(
    connect_timeout=1.0,
    read_timeout=0.3,
    total_timeout=5.0,
    retries=2,
    backoff_base=0.01,
    max_wait=5.0,
    per_host=8,
    delay=0.0,
    max_bytes=1024 * 1024,
    trust_env=False,
)

YUNNAN = "17种产品、1个园区入选国家绿色制造名单"
CNR = "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》"
COUNTY = "清河县召开汛期安全生产工作会议"


async def fetch(url: str, config: FetchConfig = FAST, **validators: str) -> tuple[Response, float]:
    """Fetch one URL with a fresh fetcher and return the response and the seconds it took.

    The URL is named to the fetcher as a source would be, so its local address may be fetched.
    """
    async with Fetcher(config, allow_private=[url]) as fetcher:
        start = time.monotonic()
        response = await fetcher.fetch(url, **validators)
        return response, time.monotonic() - start


@pytest.mark.parametrize(
    ("name", "charset", "title"),
    [
        ("yunnan-daily.html", "utf-8", YUNNAN),
        ("yunnan-daily-nocharset.html", None, YUNNAN),
        ("cnr-gbk.html", "gbk", CNR),
        ("cnr-nocharset.html", None, CNR),  # the <meta> says gb2312
        ("county-gbk.html", None, COUNTY),  # no label at all: detected
        ("county-gbk-charset.html", "gbk", COUNTY),
    ],
)
@pytest.mark.asyncio
async def test_pages_decode_and_parse(page_server: PageServer, name: str, charset: str | None, title: str) -> None:
    response, _ = await fetch(page_server.url(f"/pages/{name}"))
    assert response.status == 200
    assert response.content == PAGES[name][0].read_bytes()
    assert response.charset == charset
    assert response.content_type == "text/html"
    assert not response.truncated and not response.not_modified
    article = parse(decode_html(response.content, declared=response.charset), url=response.url)
    assert article.title == title
    assert article.paragraphs


@pytest.mark.asyncio
async def test_identifies_as_a_browser_and_as_newsbot(page_server: PageServer) -> None:
    await fetch(page_server.url("/pages/yunnan-daily.html"))
    headers = page_server.log[0].headers
    assert headers["User-Agent"].startswith("Mozilla/5.0") and "newsbot" in headers["User-Agent"]
    assert "zh-CN" in headers["Accept-Language"]


@pytest.mark.asyncio
async def test_redirect_reports_the_final_url(page_server: PageServer) -> None:
    response, _ = await fetch(page_server.url("/redirect"))
    assert response.url == page_server.url("/pages/yunnan-daily.html")
    assert response.status == 200


@pytest.mark.asyncio
async def test_conditional_fetch_gets_not_modified(page_server: PageServer) -> None:
    url = page_server.url("/cached")
    first, _ = await fetch(url)
    assert (first.status, first.etag, first.last_modified) == (200, ETAG, LAST_MODIFIED)
    assert first.content

    by_etag, _ = await fetch(url, etag=ETAG)
    by_date, _ = await fetch(url, last_modified=LAST_MODIFIED)
    for response in (by_etag, by_date):
        assert response.not_modified
        assert (response.status, response.content) == (304, b"")
        assert (response.etag, response.last_modified) == (ETAG, LAST_MODIFIED)
    assert page_server.log[1].headers["If-None-Match"] == ETAG
    assert page_server.log[2].headers["If-Modified-Since"] == LAST_MODIFIED

    changed, _ = await fetch(url, etag='"v0"')
    assert changed.status == 200 and not changed.not_modified


@pytest.mark.asyncio
async def test_server_error_then_success_is_retried(page_server: PageServer) -> None:
    response, _ = await fetch(page_server.url("/flaky?failures=2"))
    assert response.status == 200
    assert page_server.hits["/flaky"] == 3


@pytest.mark.asyncio
async def test_server_error_after_all_retries(page_server: PageServer) -> None:
    url = page_server.url("/flaky?failures=9")
    with pytest.raises(HTTPStatusError) as caught:
        await fetch(url)
    assert (caught.value.status, caught.value.url) == (500, url)
    assert page_server.hits["/flaky"] == 1 + FAST.retries


@pytest.mark.asyncio
async def test_client_error_is_not_retried(page_server: PageServer) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fetch(page_server.url("/pages/missing.html"))
    assert caught.value.status == 404
    assert page_server.hits["/pages/missing.html"] == 1


@pytest.mark.asyncio
async def test_slow_server_times_out_after_retries(page_server: PageServer) -> None:
    start = time.monotonic()
    with pytest.raises(FetchTimeout) as caught:
        await fetch(page_server.url("/slow?seconds=5"), replace(FAST, retries=1))
    assert time.monotonic() - start < 2
    assert page_server.hits["/slow"] == 2
    assert isinstance(caught.value, IngestError)


@pytest.mark.asyncio
async def test_whole_attempt_is_bounded_even_when_bytes_keep_coming(page_server: PageServer) -> None:
    config = replace(FAST, read_timeout=5.0, total_timeout=0.2, retries=0)
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"within 0\.2 s"):
        await fetch(page_server.url("/slow?seconds=5"), config)
    assert time.monotonic() - start < 1


@pytest.mark.asyncio
async def test_refused_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now; connecting is refused at once.
    with pytest.raises(ConnectionFailed) as caught:
        await fetch(f"http://127.0.0.1:{port}/", replace(FAST, retries=1))
    assert caught.value.url == f"http://127.0.0.1:{port}/"


@pytest.mark.asyncio
async def test_too_many_requests_waits_for_retry_after(page_server: PageServer) -> None:
    response, elapsed = await fetch(page_server.url("/busy?after=1"))
    assert response.status == 200
    assert 0.95 <= elapsed < 1.6
    first, second = page_server.arrivals("/busy")
    assert second - first >= 0.95


@pytest.mark.asyncio
async def test_retry_after_is_capped_at_max_wait(page_server: PageServer) -> None:
    response, elapsed = await fetch(page_server.url("/busy?after=3600&status=503"), replace(FAST, max_wait=0.2))
    assert response.status == 200
    assert 0.2 <= elapsed < 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        ("120", 120.0),
        ("Wed, 12 Jun 2024 01:30:30 GMT", 30.0),
        ("Wed, 12 Jun 2024 01:29:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert _parse_retry_after(header, now=datetime(2024, 6, 12, 1, 30, tzinfo=UTC)) == seconds


@pytest.mark.asyncio
async def test_huge_page_is_cut_at_max_bytes_without_reading_it_all(
    page_server: PageServer, caplog: pytest.LogCaptureFixture
) -> None:
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING, logger="ingest._fetch"):
            response, elapsed = await fetch(page_server.url("/huge?mb=20"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.truncated
    assert len(response.content) == FAST.max_bytes
    # The body is 20 MB; holding it, even briefly, would show here.
    assert peak < 4 * FAST.max_bytes
    assert elapsed < 2
    assert "truncated" in caplog.text


@pytest.mark.asyncio
async def test_redirect_loop_is_an_error_not_a_hang(page_server: PageServer) -> None:
    start = time.monotonic()
    with pytest.raises(TooManyRedirects):
        await fetch(page_server.url("/loop/a"), replace(FAST, max_redirects=4))
    assert time.monotonic() - start < 1
    assert page_server.hits["/loop/a"] + page_server.hits["/loop/b"] == 5


@pytest.mark.asyncio
async def test_garbage_bytes_fail_to_decode(page_server: PageServer) -> None:
    response, _ = await fetch(page_server.url("/garbage"))
    assert response.status == 200 and len(response.content) == 4096
    with pytest.raises(DecodeError):
        decode_html(response.content, declared=response.charset)
    with pytest.raises(DecodeError):
        parse(response.content, url=response.url)


@pytest.mark.asyncio
async def test_per_host_concurrency_is_capped(page_server: PageServer) -> None:
    async with Fetcher(replace(FAST, per_host=2), allow_private=[page_server.base]) as fetcher:
        responses = await asyncio.gather(*(fetcher.fetch(page_server.url("/slow?seconds=0.1")) for _ in range(6)))
    assert all(response.status == 200 for response in responses)
    assert page_server.max_in_flight == 2


@pytest.mark.asyncio
async def test_requests_to_one_host_are_spaced_by_delay(page_server: PageServer) -> None:
    async with Fetcher(replace(FAST, per_host=4, delay=0.15), allow_private=[page_server.base]) as fetcher:
        await asyncio.gather(*(fetcher.fetch(page_server.url("/pages/yunnan-daily.html")) for _ in range(4)))
    arrivals = page_server.arrivals("/pages/yunnan-daily.html")
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.14


@pytest.mark.parametrize("url", ["ftp://example.cn/a.html", "file:///etc/passwd", "/pages/a.html", "http://"])
@pytest.mark.asyncio
async def test_only_absolute_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        await fetch(url)
    assert caught.value.url == url


@pytest.mark.asyncio
async def test_fetcher_must_be_opened() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await Fetcher(FAST).fetch("http://127.0.0.1/")


@pytest.mark.parametrize("field", ["read_timeout", "max_bytes", "per_host"])
def test_config_rejects_limits_that_disable_fetching(field: str) -> None:
    overrides: dict[str, Any] = {field: 0}
    with pytest.raises(ValueError, match=field):
        replace(FAST, **overrides)


def test_config_rejects_negative_delay() -> None:
    with pytest.raises(ValueError, match="delay"):
        FetchConfig(delay=-1)
