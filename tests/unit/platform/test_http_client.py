"""Outgoing HTTP (shared.http_client): a stuck pool is replaced, a cancelled caller cancels nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from shared.http_client import ResilientHttp


def stuck(request: httpx.Request) -> httpx.Response:
    raise httpx.PoolTimeout("no connection available", request=request)


def answering(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path})


class Factory:
    """Hands out one client per handler, in order, and remembers every client it built."""

    def __init__(self, *handlers: Callable[[httpx.Request], object]) -> None:
        self.handlers = list(handlers)
        self.built: list[httpx.AsyncClient] = []

    def __call__(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handlers[len(self.built)]))  # type: ignore[arg-type]
        self.built.append(client)
        return client


async def eventually(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_after_n_pool_timeouts_in_a_row_the_client_is_replaced_and_the_next_call_gets_through():
    factory = Factory(stuck, answering)
    http = ResilientHttp(factory, reset_after=3)

    for _ in range(3):
        with pytest.raises(httpx.PoolTimeout):
            await http.get("http://inventory/products")
    response = await http.get("http://inventory/products")

    assert response.status_code == 200 and response.json() == {"path": "/products"}
    assert len(factory.built) == 2 and http.client is factory.built[1]
    assert http.resets == 1
    await eventually(lambda: factory.built[0].is_closed)  # the stuck one is closed in the background
    await http.aclose()


async def test_pool_timeouts_broken_up_by_an_answer_do_not_replace_the_client():
    outcomes = iter([stuck, stuck, answering, stuck, stuck, answering])

    def flaky(request: httpx.Request) -> httpx.Response:
        return next(outcomes)(request)

    factory = Factory(flaky)
    http = ResilientHttp(factory, reset_after=3)

    statuses: list[int | str] = []
    for _ in range(6):
        try:
            statuses.append((await http.get("http://billing/customers/C1")).status_code)
        except httpx.PoolTimeout:
            statuses.append("pool timeout")

    assert statuses == ["pool timeout", "pool timeout", 200, "pool timeout", "pool timeout", 200]
    assert len(factory.built) == 1 and http.resets == 0
    await http.aclose()


async def test_a_cancelled_caller_does_not_cancel_the_request_underneath():
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()  # without the shield the caller's cancellation lands here
        finished.set()
        return httpx.Response(200, json={})

    http = ResilientHttp(Factory(slow))
    caller = asyncio.create_task(http.get("http://inventory/products"))
    await started.wait()

    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()

    await asyncio.wait_for(finished.wait(), timeout=5)
    await http.aclose()


async def test_a_reset_lets_the_requests_still_running_on_the_old_client_finish():
    release = asyncio.Event()

    async def old_pool(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            await release.wait()
            return httpx.Response(200, json={"slow": True})
        return stuck(request)

    factory = Factory(old_pool, answering)
    http = ResilientHttp(factory, reset_after=2)
    slow = asyncio.create_task(http.get("http://inventory/slow"))
    for _ in range(2):
        with pytest.raises(httpx.PoolTimeout):
            await http.get("http://inventory/products")
    assert http.resets == 1

    assert (await http.get("http://inventory/products")).status_code == 200  # the new client
    assert not factory.built[0].is_closed  # not closed under the slow request
    release.set()
    assert (await slow).json() == {"slow": True}
    await eventually(lambda: factory.built[0].is_closed)
    await http.aclose()


@pytest.mark.parametrize(("status", "ready"), [(200, True), (404, True), (500, False), (503, False)])
async def test_a_readiness_probe_is_ready_when_the_dependency_answers_without_a_server_error(status, ready):
    http = ResilientHttp(Factory(lambda request: httpx.Response(status)))

    assert await http.reachable("http://inventory/health", within_s=1) is ready
    await http.aclose()


async def test_a_readiness_probe_of_an_unreachable_dependency_is_not_ready():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = ResilientHttp(Factory(refuse))

    assert await http.reachable("http://inventory/health", within_s=1) is False
    await http.aclose()


async def test_readiness_probes_that_hit_a_stuck_pool_replace_it():
    factory = Factory(stuck, answering)
    http = ResilientHttp(factory, reset_after=3)

    probes = [await http.reachable("http://inventory/health", within_s=1) for _ in range(4)]

    assert probes == [False, False, False, True]
    assert len(factory.built) == 2
    await http.aclose()


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    """A tiny real HTTP/1.1 server answering ``{}`` to every request."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = await reader.read(4096)
                    if not chunk:
                        return
                    head += chunk
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    server.close()
    await server.wait_closed()


async def test_callers_cancelled_while_waiting_for_a_real_pool_leave_no_slot_behind(origin):
    # httpcore 1.0.9 (encode/httpcore#1093): two callers on a one-connection pool, both cancelled
    # before the first connection is made, leave that slot taken forever - every later call on a
    # bare httpx.AsyncClient is a PoolTimeout. Through ResilientHttp the pool finishes both requests.
    http = ResilientHttp(lambda: httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=2))
    callers = [asyncio.create_task(http.get(origin)) for _ in range(2)]
    await asyncio.sleep(0)  # let both reach the pool

    for caller in callers:
        caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)

    response = await http.get(origin)
    assert response.status_code == 200 and response.json() == {}
    assert http.resets == 0  # it was never stuck: nothing had to be replaced
    await http.aclose()
