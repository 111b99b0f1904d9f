"""Which network addresses a fetch may connect to, and connections made only to those (SSRF).

A page, a feed or a redirect can name any host; a host can resolve to any address. Loopback,
link-local, private, shared, multicast, unspecified and reserved addresses (IPv4 and IPv6, IPv4
mapped into IPv6 included) are refused unless the operator named that address literally: a source
URL (or a URL on the command line) whose host is an IP literal, or ``localhost`` (127.0.0.1 and
::1), allows that address on that URL's port and nothing else.

The check sits in the connection itself (`GuardedTransport`): the name is resolved once, every
answer is checked, and the socket connects to a checked address, so a DNS answer cannot change
between the check and the connect (rebinding), and every redirect hop that opens a connection is
checked too. A host with any refused answer is refused as a whole.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import TypeAlias

import httpcore
import httpx

__all__ = [
    "AddressPolicy",
    "AddressRefused",
    "GuardedTransport",
    "Resolver",
    "is_public",
    "named_addresses",
    "system_resolver",
]

IPAddress: TypeAlias = IPv4Address | IPv6Address
# host, port → the addresses to try, in order (strings as getaddrinfo gives them).
Resolver: TypeAlias = Callable[[str, int], Awaitable[Sequence[str]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCALHOST = (IPv4Address("127.0.0.1"), IPv6Address("::1"))


class AddressRefused(Exception):
    """A connection would reach an address no source names (or the name could not be checked)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver, without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _plain(address: IPAddress) -> IPAddress:
    """Return an IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 address it stands for."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _kind(address: IPAddress) -> str | None:
    """Return why an address is not public (loopback, private …), or None when it is."""
    address = _plain(address)
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private", "site_local"):
        if getattr(address, f"is_{kind}", False):
            return kind.replace("_", "-")
    # is_global leaves out what the flags above miss, such as the shared 100.64.0.0/10.
    return None if address.is_global else "non-public"


def is_public(address: IPAddress) -> bool:
    """Tell whether connecting to ``address`` reaches the public internet rather than a local network."""
    return _kind(address) is None


def named_addresses(urls: Iterable[str]) -> frozenset[tuple[IPAddress, int]]:
    """Return the (address, port) pairs the http(s) URLs name literally: IP literal hosts and localhost."""
    named: set[tuple[IPAddress, int]] = set()
    for url in urls:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            continue
        if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
            continue
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
        if parsed.host.lower() == "localhost":
            named.update((address, port) for address in _LOCALHOST)
            continue
        try:
            named.add((_plain(ip_address(parsed.host)), port))
        except ValueError:
            continue  # a name: what it resolves to is checked like any other
    return frozenset(named)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The addresses the operator named, and how names are resolved."""

    allowed: frozenset[tuple[IPAddress, int]] = frozenset()
    resolver: Resolver = system_resolver

    async def addresses(self, host: str, port: int) -> list[str]:
        """Return the addresses ``host`` may be reached at on ``port``.

        Raises:
            AddressRefused: an answer is an address no source names.
            OSError: the name does not resolve.
        """
        try:
            answers: Sequence[str] = [str(ip_address(host))]
            named = host
        except ValueError:
            answers = await self.resolver(host, port)
            named = ""
        if not answers:
            raise OSError(f"{host} resolves to no address")
        for answer in answers:
            address = ip_address(answer.partition("%")[0])  # an IPv6 zone (fe80::1%eth0) is not part of it
            kind = _kind(address)
            if kind is not None and (_plain(address), port) not in self.allowed:
                where = named or f"{host} resolves to {answer}, which"
                raise AddressRefused(f"{where} is a {kind} address and no source names it")
        return list(answers)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking each host before connecting to its address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first reachable checked address of ``host``."""
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.addresses(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout:g} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host} ({exc})") from exc
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # addresses is never empty
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Refuse: a fetch never goes through a Unix socket."""
        raise AddressRefused(f"Unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the wrapped backend does."""
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, whose connections go only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, *, trust_env: bool) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=trust_env)  # loaded once, for both pools
        super().__init__(verify=ssl_context, trust_env=trust_env)
        # httpx takes no network backend; the httpcore pool under it does. Same limits as httpx's defaults.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )
