"""Outgoing HTTP that survives cancelled callers and a pool that stopped handing out connections.

httpcore 1.0.9 (under httpx 0.28) leaks a connection slot for good when a request is cancelled
while it waits for a connection under contention (encode/httpcore#1093); once every slot has
leaked, each request fails with ``httpx.PoolTimeout`` until the pool is recreated. A request
handler is cancelled whenever its client disconnects or times out, so a burst of orders was
enough to wedge intake's pool. ``ResilientHttp`` closes both doors:

* every request runs in its own task, shielded from the caller's cancellation, so the pool always
  finishes or fails it itself (bounded by the client's connect/read/write/pool timeouts);
* after ``reset_after`` consecutive ``PoolTimeout``s it replaces the client with a fresh one from
  its factory and closes the old one in the background once its own requests are done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import httpx

log = logging.getLogger(__name__)

ClientFactory = Callable[[], httpx.AsyncClient]


class HttpGet(Protocol):
    """What a door adapter needs: ``httpx.AsyncClient`` and ``ResilientHttp`` both provide it."""

    async def get(self, url: str, *, params: Any = None) -> httpx.Response: ...


class ResilientHttp:
    """Owns an ``httpx.AsyncClient`` built by ``factory`` and rebuilds it when its pool is stuck."""

    def __init__(self, factory: ClientFactory, *, reset_after: int = 3, name: str = "http") -> None:
        if reset_after < 1:
            raise ValueError("reset_after must be at least 1")
        self.factory, self.reset_after, self.name = factory, reset_after, name
        self._client = factory()
        self.consecutive_pool_timeouts = 0
        self.resets = 0
        self._inflight: dict[asyncio.Task[httpx.Response], httpx.AsyncClient] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> httpx.AsyncClient:
        """The current client; read it per call (a reset replaces it), never keep it."""
        return self._client

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """``client.request(...)`` in a task the caller's cancellation cannot reach.

        A cancelled caller gets its ``CancelledError`` at once; the request itself carries on
        until it completes or the client's timeouts end it, then its connection goes back.
        """
        client = self._client
        task = asyncio.ensure_future(self._send(client, method, url, **kwargs))
        self._inflight[task] = client
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def reachable(self, url: str, *, within_s: float) -> bool:
        """Readiness probe through this same pool: did ``url`` answer, without a server error?

        Any answer below 500 means the dependency is up and talking HTTP. A probe that hits a stuck
        pool fails with ``PoolTimeout`` and counts towards the reset like any other request.
        """
        try:
            response = await self.get(url, timeout=httpx.Timeout(within_s))
        except httpx.HTTPError as exc:
            log.warning("dependency not reachable", extra={"url": url, "error": repr(exc)})
            return False
        if response.status_code >= 500:
            log.warning("dependency answered %d", response.status_code, extra={"url": url})
            return False
        return True

    async def aclose(self) -> None:
        """Shutdown: cancel what is still in flight and close every client."""
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, *self._retiring, return_exceptions=True)
        await self._client.aclose()

    async def _send(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.PoolTimeout:
            self._pool_timed_out(client)
            raise
        except httpx.HTTPError:
            self._pool_worked(client)  # the pool handed out a connection: it is not the pool
            raise
        self._pool_worked(client)
        return response

    def _pool_worked(self, client: httpx.AsyncClient) -> None:
        if client is self._client:
            self.consecutive_pool_timeouts = 0

    def _pool_timed_out(self, client: httpx.AsyncClient) -> None:
        if client is not self._client:
            return  # a retired client's timeouts say nothing about the new one
        self.consecutive_pool_timeouts += 1
        if self.consecutive_pool_timeouts >= self.reset_after:
            self._reset()

    def _reset(self) -> None:
        old, self._client = self._client, self.factory()
        self.consecutive_pool_timeouts = 0
        self.resets += 1
        log.warning(
            "outgoing HTTP pool stuck: %d pool timeouts in a row, replaced the client",
            self.reset_after,
            extra={"client": self.name, "resets": self.resets},
        )
        retire = asyncio.get_running_loop().create_task(self._retire(old))
        self._retiring.add(retire)
        retire.add_done_callback(self._retiring.discard)

    async def _retire(self, old: httpx.AsyncClient) -> None:
        # Its requests end by themselves (timeouts); closing under them would fail them for nothing.
        pending = [task for task, client in self._inflight.items() if client is old]
        if pending:
            await asyncio.wait(pending)
        try:
            await old.aclose()
        except Exception as exc:  # closing a broken pool must not take anything else down
            log.warning("closing the replaced HTTP client failed", extra={"error": repr(exc)})

    def _forget(self, task: asyncio.Task[httpx.Response]) -> None:
        self._inflight.pop(task, None)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that was cancelled never will
