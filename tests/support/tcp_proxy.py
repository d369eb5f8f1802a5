"""A TCP proxy on localhost that a test can cut: services connect to the broker through it, and
the test drops their connections at the worst moment (issue 9).

It runs its own asyncio loop in a thread, so it keeps forwarding while the test's loop is busy
or blocked (``Stack.restart`` waits synchronously). Faults:

- ``hold()``: bytes from the clients still reach the broker, but nothing comes back: publishes
  are routed and confirmed by the broker while their confirms never reach the publisher. Cut
  after a hold and every publish in that window was done but is unconfirmed to its publisher:
  the connection dropped between publish and confirm.
- ``cut(refuse_s)``: close every connection now (both sides); with ``refuse_s`` the listening
  port is closed too, so reconnects are refused (ECONNREFUSED) until ``restore`` or that long.
- ``restore()``: forward both ways again and accept new connections (connections still held are
  cut first: the bytes a hold dropped leave their streams unusable).

    with TcpProxy("127.0.0.1", broker_port) as proxy:
        url = proxy.url(amqp_url)   # the same credentials and vhost, the proxy's port
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from devstack.processes import free_port

CHUNK = 65536


@dataclass
class ProxyStats:
    accepted: int = 0
    cut: int = 0  # connections closed by ``cut``
    upstream_failed: int = 0  # accepted, but the broker did not answer (it is down): closed at once


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.stats = ProxyStats()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._flowing = asyncio.Event()  # upstream -> client allowed; cleared by hold()
        self._reopen: asyncio.TimerHandle | None = None

    # --- public, thread-safe ---------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def url(self, amqp_url: str) -> str:
        """``amqp_url`` with the proxy's host and port (credentials, vhost and query kept)."""
        parts = urlsplit(amqp_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))

    def hold(self) -> None:
        """Stop passing anything from the broker to the clients (the other way keeps flowing)."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def cut(self, refuse_s: float = 0.0) -> int:
        """Close every connection; refuse new ones for ``refuse_s`` (0: accept at once). Returns
        how many connections were cut."""
        return self._call(self._cut(refuse_s))

    def restore(self) -> None:
        """Forward both ways and accept connections again."""
        self._call(self._restore())

    @property
    def connections(self) -> int:
        return len(self._pairs)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._cut(0.0, stop=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- inside the proxy's loop -----------------------------------------------------------------
    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _start(self) -> None:
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self, refuse_s: float, stop: bool = False) -> int:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        if (refuse_s > 0 or stop) and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        pairs = list(self._pairs)
        self._pairs.clear()
        for client, upstream in pairs:
            for writer in (client, upstream):
                writer.transport.abort()  # RST, no FIN handshake: the peer sees the link die
        self.stats.cut += len(pairs)
        if refuse_s > 0 and not stop:
            self._reopen = self._loop.call_later(refuse_s, lambda: asyncio.ensure_future(self._listen()))
        return len(pairs)

    async def _restore(self) -> None:
        if not self._flowing.is_set() and self._pairs:
            await self._cut(0.0)  # what a hold dropped cannot be put back: those streams are broken
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        self._flowing.set()
        await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.stats.upstream_failed += 1
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        await asyncio.gather(
            self._pipe(reader, up_writer, pair, gated=False),
            self._pipe(up_reader, writer, pair, gated=True),
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        gated: bool,
    ) -> None:
        try:
            while pair in self._pairs:
                data = await reader.read(CHUNK)
                if not data:
                    break
                if gated and not self._flowing.is_set():
                    # Held: drop what the broker says (confirms, deliveries) until the cut.
                    continue
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if pair in self._pairs:  # one side ended on its own: end the other
                self._pairs.discard(pair)
                for side in pair:
                    side.transport.abort()
