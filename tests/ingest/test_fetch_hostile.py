"""Servers that attack the fetcher: gzip bombs, endless and stalled bodies, a 50 MB page, odd encodings.

Each case must end in bounded time and memory with the body cut at the cap (and a warning) or a
clear `FetchError`, over real sockets.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from ingest import FetchConfig, Fetcher, FetchError, FetchTimeout, Response
from tests.hostileserver import PAGE, HostileServer
from tests.pageserver import PageServer

T = TypeVar("T")
MIB = 1024 * 1024
CAP = MIB
FAST = FetchConfig(
    connect_timeout=1.0, read_timeout=0.5, total_timeout=5.0, retries=0, delay=0.0, max_bytes=CAP, trust_env=False
)


async def measured(run: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """Return what ``run`` returned, the seconds it took and the peak of Python memory it allocated, in MiB."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        result = await run()
        return result, time.monotonic() - start, tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


async def fetch(url: str, config: FetchConfig = FAST) -> Response:
    """Fetch ``url`` with a fresh fetcher that may reach the (local) server it names."""
    async with Fetcher(config, allow_private=[url]) as fetcher:
        return await fetcher.fetch(url)


@pytest.mark.asyncio
async def test_gzip_bomb_is_cut_at_the_cap_counted_in_decompressed_bytes(
    hostile_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = hostile_server.url("/gzip-bomb?gb=10")
    caplog.set_level(logging.WARNING, logger="ingest._fetch")
    response, seconds, peak = await measured(lambda: fetch(url))
    assert response.truncated
    assert response.content == bytes(CAP)  # the zeros, decompressed, exactly up to the cap
    assert "truncated" in caplog.text
    assert seconds < 2
    # Inflating a whole 64 KiB network read at once would allocate about 64 MiB here.
    assert peak < 4 * CAP / MIB + 2
    assert hostile_server.sent["/gzip-bomb"] < 100 * MIB  # the server stopped long before 10 GB


@pytest.mark.asyncio
async def test_endless_chunked_body_is_truncated_with_a_warning(
    hostile_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ingest._fetch")
    response, seconds, peak = await measured(lambda: fetch(hostile_server.url("/endless")))
    assert response.truncated and len(response.content) == CAP
    assert response.content.startswith("<p>没完没了。".encode())
    assert "body longer than 1048576 bytes; truncated" in caplog.text
    assert seconds < 2
    assert peak < 4 * CAP / MIB + 2


@pytest.mark.asyncio
async def test_server_stalling_mid_body_hits_the_read_timeout(hostile_server: HostileServer) -> None:
    config = replace(FAST, read_timeout=0.3, retries=1, backoff_base=0.01)
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match="ReadTimeout") as caught:
        await fetch(hostile_server.url("/stall?bytes=5000"), config)
    assert time.monotonic() - start < 2  # two attempts of 0.3 s silence each, not an hour
    assert hostile_server.hits["/stall"] == 2
    assert caught.value.url == hostile_server.url("/stall?bytes=5000")


@pytest.mark.asyncio
async def test_stall_within_the_read_timeout_still_ends_at_the_whole_attempt_timeout(
    hostile_server: HostileServer,
) -> None:
    config = replace(FAST, read_timeout=30.0, total_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"within 0\.5 s"):
        await fetch(hostile_server.url("/stall"), config)
    assert time.monotonic() - start < 1.5


@pytest.mark.asyncio
async def test_fifty_megabyte_page_is_cut_at_the_default_cap(page_server: PageServer) -> None:
    config = FetchConfig(retries=0, delay=0.0, trust_env=False)  # the default 10 MiB cap
    response, seconds, peak = await measured(lambda: fetch(page_server.url("/huge?mb=50"), config))
    assert response.truncated and len(response.content) == config.max_bytes
    assert seconds < 5
    assert peak < 3 * config.max_bytes / MIB


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "rawdeflate"])
@pytest.mark.asyncio
async def test_compressed_pages_decode_exactly(hostile_server: HostileServer, encoding: str) -> None:
    response = await fetch(hostile_server.url(f"/page?encoding={encoding}"))
    assert response.content == PAGE and not response.truncated


@pytest.mark.parametrize(
    ("encoding", "message"),
    [("br", "unsupported Content-Encoding 'br'"), ("corrupt", "body does not decompress")],
)
@pytest.mark.asyncio
async def test_undecodable_bodies_are_clear_errors(hostile_server: HostileServer, encoding: str, message: str) -> None:
    url = hostile_server.url(f"/page?encoding={encoding}")
    with pytest.raises(FetchError, match=message) as caught:
        await fetch(url)
    assert caught.value.url == url


@pytest.mark.asyncio
async def test_only_decodable_encodings_are_asked_for(page_server: PageServer) -> None:
    await fetch(page_server.url("/pages/yunnan-daily.html"))
    assert page_server.log[-1].headers["Accept-Encoding"] == "gzip, deflate"
