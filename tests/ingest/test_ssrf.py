"""The fetcher connects only to public addresses, unless a source names the local one literally (SSRF).

Real local servers stand in for both sides: the one a source names (allowed) and another on
another port (an internal service no source names). Host names are mapped to addresses through
the fetcher's ``resolver`` parameter; everything else goes through the system resolver.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import quote

import pytest

from ingest import BlockedAddress, FetchConfig, Fetcher, FetchError, Response
from ingest._addresses import is_public, named_addresses, system_resolver
from tests.hostileserver import PAGE, TLS_CERT, HostileServer, serve_hostile

FAST = FetchConfig(connect_timeout=1.0, read_timeout=1.0, retries=2, backoff_base=0.01, delay=0.0, trust_env=False)


class FakeDNS:
    """A resolver answering from a table (the system's for names not in it), counting its calls."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host in self.table:
            return self.table[host]
        return await system_resolver(host, port)


async def fetch(url: str, *, allow: Sequence[str] = (), dns: FakeDNS | None = None) -> Response:
    async with Fetcher(FAST, allow_private=allow, resolver=dns) as fetcher:
        return await fetcher.fetch(url)


def via(server: HostileServer, target: str) -> str:
    """Return a URL on ``server`` that redirects to ``target``."""
    return server.url("/to?url=" + quote(target, safe=""))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.7",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.7",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1: reserved
    ],
)
def test_local_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "114.114.114.114", "2400:3200::1", "::ffff:8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(ip_address(address))


def test_only_literal_addresses_and_localhost_are_named() -> None:
    named = named_addresses(
        [
            "http://127.0.0.1:8080/news/",
            "https://localhost/feed.xml",
            "http://[::ffff:10.0.0.7]/",
            "http://intranet.example/",  # a name: checked after resolution like any other
            "/srv/news",  # a folder source
            "http://[bad",
        ]
    )
    assert named == {
        (IPv4Address("127.0.0.1"), 8080),
        (IPv4Address("127.0.0.1"), 443),
        (IPv6Address("::1"), 443),
        (IPv4Address("10.0.0.7"), 80),
    }


@pytest.mark.asyncio
async def test_local_address_no_source_names_is_refused_before_connecting(hostile_server: HostileServer) -> None:
    url = hostile_server.url("/page")
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1 is a loopback address and no source names it") as caught:
        await fetch(url)
    assert caught.value.url == url
    assert hostile_server.hits["/page"] == 0  # never reached, and not retried


@pytest.mark.asyncio
async def test_address_a_source_names_is_fetched(hostile_server: HostileServer) -> None:
    response = await fetch(hostile_server.url("/page"), allow=[hostile_server.url("/list")])
    assert response.content == PAGE


@pytest.mark.asyncio
async def test_another_port_of_a_named_address_is_refused(
    hostile_server: HostileServer, hostile_server_2: HostileServer
) -> None:
    with pytest.raises(BlockedAddress):
        await fetch(hostile_server_2.url("/page"), allow=[hostile_server.base])
    assert hostile_server_2.hits["/page"] == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/page",
        "http://[::ffff:127.0.0.1]:{port}/page",  # IPv4-mapped IPv6
        "http://localhost:{port}/page",  # system resolver
        "http://2130706433:{port}/page",  # 127.0.0.1 as one number: the system resolver reads it
        "http://internal.example:{port}/page",  # a name the resolver maps to 127.0.0.1
        "http://[::1]:{port}/page",
        "http://0.0.0.0:{port}/page",
        "http://169.254.169.254/latest/meta-data/",
        "http://intranet.example/admin",  # a name that resolves to 10.0.0.7
    ],
)
@pytest.mark.asyncio
async def test_redirect_to_a_local_address_is_refused(
    hostile_server: HostileServer, hostile_server_2: HostileServer, target: str
) -> None:
    dns = FakeDNS({"internal.example": ["127.0.0.1"], "intranet.example": ["10.0.0.7"]})
    port = hostile_server_2.base.rpartition(":")[2]
    start = time.monotonic()
    with pytest.raises(BlockedAddress, match="no source names it") as caught:
        await fetch(via(hostile_server, target.format(port=port)), allow=[hostile_server.base], dns=dns)
    assert time.monotonic() - start < 0.5  # refused before any connection attempt to it, not timed out
    assert hostile_server.hits["/to"] == 1  # the named server was asked, once: a refusal is not retried
    assert hostile_server_2.hits["/page"] == 0
    assert caught.value.url.startswith(hostile_server.base)


@pytest.mark.parametrize("answers", [["10.0.0.7"], ["8.8.8.8", "10.0.0.7"], ["::ffff:192.168.0.1"]])
@pytest.mark.asyncio
async def test_name_resolving_to_a_private_address_is_refused(answers: list[str]) -> None:
    dns = FakeDNS({"news.example": answers})
    with pytest.raises(BlockedAddress, match=r"news\.example resolves to .* no source names it"):
        await fetch("http://news.example/a.html", dns=dns)
    assert dns.calls == ["news.example"]


@pytest.mark.asyncio
async def test_connection_goes_to_the_checked_address_without_resolving_again(hostile_server: HostileServer) -> None:
    """DNS rebinding: the name is resolved once per connection and the socket connects to that answer.

    The system resolver does not know news.example: the page arrives only if the connection used
    the address the check saw. A later answer (10.0.0.7) never reaches this connection.
    """
    port = hostile_server.base.rpartition(":")[2]
    dns = FakeDNS({"news.example": ["127.0.0.1"]})
    async with Fetcher(FAST, allow_private=[hostile_server.base], resolver=dns) as fetcher:
        first = await fetcher.fetch(f"http://news.example:{port}/page")
        dns.table["news.example"] = ["10.0.0.7"]
        again = await fetcher.fetch(f"http://news.example:{port}/to?url=%2Fpage")  # kept-alive connection
    assert first.content == again.content == PAGE
    assert dns.calls == ["news.example"]
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
        await fetch(f"http://news.example:{port}/page", allow=[hostile_server.base], dns=dns)  # a new connection


@pytest.mark.asyncio
async def test_behind_a_proxy_each_hop_is_still_checked(
    hostile_server: HostileServer, hostile_server_2: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set the proxy connects; the fetcher checks each hop's host before sending it there."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", hostile_server_2.base)  # serves any URL's path: a stand-in proxy
    config = replace(FAST, trust_env=True)
    dns = FakeDNS({"intranet.example": ["10.0.0.7"]})
    async with Fetcher(config, allow_private=[hostile_server.base], resolver=dns) as fetcher:
        allowed = await fetcher.fetch(hostile_server.url("/page"))
        with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
            await fetcher.fetch(hostile_server.url("/to?url=" + quote("http://intranet.example/page", safe="")))
    assert allowed.content == PAGE
    assert hostile_server_2.hits == {"/page": 1, "/to": 1}  # through the proxy; the refused hop never left
    assert hostile_server.hits["/page"] == 0


@pytest.mark.asyncio
async def test_https_to_a_pinned_address_still_verifies_the_certificate_for_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The socket goes to the checked address, TLS checks the certificate against the URL's name."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERT))  # trust the test certificate, as trust_env allows
    config = replace(FAST, trust_env=True, retries=0)
    async with serve_hostile(tls=True) as server:
        port = server.base.rpartition(":")[2]
        dns = FakeDNS({"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
        async with Fetcher(config, allow_private=[server.base], resolver=dns) as fetcher:
            response = await fetcher.fetch(f"https://news.example:{port}/page")
            with pytest.raises(FetchError, match=r"CERTIFICATE_VERIFY_FAILED"):
                await fetcher.fetch(f"https://other.example:{port}/page")  # same address, a name the cert lacks
    assert response.content == PAGE
    assert server.hits["/page"] == 1
