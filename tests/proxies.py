"""Local proxies for tests: an HTTP forward proxy (absolute-form requests and CONNECT) and a SOCKS5
server, each the only way to the host names it maps (nothing else resolves `*.invalid`).

    async with serve_proxy("socks5", {"api.telegram.invalid": "127.0.0.1"}) as proxy:
        ...  # a client told to use proxy.url reaches http://api.telegram.invalid:PORT/
        assert "getMe" in proxy.methods

The proxy reaches only the mapped names and loopback addresses. It notes the Bot API method of
every request passing through (`methods`), read from the request lines in the client's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import struct
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Kind", "Proxy", "serve_proxy"]

Kind = Literal["http", "socks5"]
_REQUEST_LINE = re.compile(rb"/bot[^/\s]*/(\w+)(?:\?\S*)? HTTP/1\.[01]\r\n")
_SOCKS_VERSION, _NO_AUTH, _CONNECT = 5, 0, 1
_SOCKS_OK, _SOCKS_REFUSED = 0, 2  # "succeeded", "connection not allowed by ruleset"


@dataclass
class Proxy:
    """A running proxy: its URL and what passed through it."""

    kind: Kind
    hosts: Mapping[str, str]  # name → the address it stands for
    url: str = ""
    tunnels: list[tuple[str, int]] = field(default_factory=list)  # (host, port) asked for, per connection
    methods: list[str] = field(default_factory=list)  # Bot API methods, in the order the requests came

    def address(self, host: str) -> str | None:
        """Return where `host` is reached: a mapped name's address, a loopback address itself, else nowhere."""
        if host in self.hosts:
            return self.hosts[host]
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host).is_loopback:
                return host
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection: find where it goes, connect, and pass bytes both ways."""
        try:
            opened = await (self._socks5(reader, writer) if self.kind == "socks5" else self._http(reader, writer))
            if opened is not None:
                (upstream_reader, upstream_writer), first = opened
                upstream_writer.write(first)
                self._note(first)
                await asyncio.gather(
                    self._pipe(reader, upstream_writer, sniff=True), self._pipe(upstream_reader, writer, sniff=False)
                )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _open(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        self.tunnels.append((host, port))
        address = self.address(host)
        return None if address is None else await asyncio.open_connection(address, port)

    async def _http(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bytes] | None:
        head = await reader.readuntil(b"\r\n\r\n")
        verb, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if verb == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = await self._open(host.strip("[]"), int(port))
            writer.write(
                b"HTTP/1.1 200 Connection established\r\n\r\n" if upstream else b"HTTP/1.1 403 Forbidden\r\n\r\n"
            )
            return None if upstream is None else (upstream, b"")
        url = urlsplit(target)
        upstream = await self._open(url.hostname or "", url.port or 80)
        if upstream is None:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        return upstream, head  # the server takes the absolute form as it is (RFC 9112, 3.2.2)

    async def _socks5(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bytes] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != _SOCKS_VERSION or _NO_AUTH not in methods:
            writer.write(bytes([_SOCKS_VERSION, 0xFF]))
            return None
        writer.write(bytes([_SOCKS_VERSION, _NO_AUTH]))
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode("idna")
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        upstream = await self._open(host, port) if command == _CONNECT else None
        status = _SOCKS_OK if upstream is not None else _SOCKS_REFUSED
        writer.write(bytes([_SOCKS_VERSION, status, 0, 1, 0, 0, 0, 0, 0, 0]))
        return None if upstream is None else (upstream, b"")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, sniff: bool) -> None:
        try:
            while chunk := await reader.read(65536):
                if sniff:
                    self._note(chunk)
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _note(self, data: bytes) -> None:
        # The clients here write each request's head in one piece: a request line is never split.
        self.methods += [m.decode() for m in _REQUEST_LINE.findall(data)]


@asynccontextmanager
async def serve_proxy(kind: Kind, hosts: Mapping[str, str]) -> AsyncIterator[Proxy]:
    """Run a proxy of `kind` on a free loopback port until the block ends."""
    proxy = Proxy(kind, hosts)
    connections: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await proxy.handle(reader, writer)
        finally:
            connections.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy.url = f"{kind}://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        server.close()
        for task in list(connections):  # long polls the client left open
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()
