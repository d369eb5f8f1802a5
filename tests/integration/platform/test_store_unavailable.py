"""The store stopped and started again under a running system (issue 9).

Every service runs against a store process of this test's own (the session's shared store is never
touched). While it is down, a request that was in flight when it stopped and every new one gets a
503 with the error body (``store_unavailable``, or ``dependency_unavailable`` from a door whose
dependency answered that) and ``Retry-After`` within a bound: never a 500, never a hang. Consumers
retry (a store error is transient, not poison: nothing is parked). Once it is back, every service
is ready again and every order placed before, during and after the outage completes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from devstack.processes import Proc, free_port, start_store, wait_ready
from shared.bus import Bus
from shared.contracts import ReleaseStock
from shared.envelope import Envelope
from shared.registry import SERVICES
from shared.settings import ServiceSettings
from tests.support.api import Shop, uid
from tests.support.barriers import eventually, parked_until, synced
from tests.support.slow_app import start_slow_app
from tests.support.stack import Stack
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration

SELECTION_MS = 2000  # MONGO_SERVER_SELECTION_TIMEOUT_MS of this test's services
BOUND_S = 3 * SELECTION_MS / 1000 + 4  # a door's dependency call, its own store wait, and slack
OUTAGE_CODES = {"store_unavailable", "dependency_unavailable"}


@dataclass
class Answer:
    what: str
    phase: str
    status: int
    code: str | None
    retry_after: str | None
    elapsed_s: float
    order_id: str | None = None


def answer(what: str, phase: str, response: httpx.Response, started: float) -> Answer:
    code = None
    if response.status_code >= 400:
        code = response.json()["error"]["code"]  # every error has the body (a KeyError fails loudly)
    order_id = response.json().get("order_id") if response.status_code == 201 else None
    return Answer(what, phase, response.status_code, code, response.headers.get("Retry-After"),
                  time.monotonic() - started, order_id)  # fmt: skip


@pytest.fixture
async def own_store(work_dir: Path) -> AsyncIterator[tuple[Proc, Path, int]]:
    data, port = work_dir / f"store-{uid('down')}", free_port()
    store = start_store(data, port, work_dir / "logs")
    try:
        yield store, data, port
    finally:
        store.stop()


async def test_requests_get_503_while_the_store_is_down_and_everything_converges_after(
    amqp_url, work_dir, own_store, probe_for
):
    store, data, port = own_store
    env = {"MONGO_SERVER_SELECTION_TIMEOUT_MS": str(SELECTION_MS), "MONGO_CONNECT_TIMEOUT_MS": "1000"}
    stack = Stack(amqp_url=amqp_url, mongo_url=store.url, log_dir=work_dir / "logs", extra_env=env)
    slow = None
    try:
        stack.start(SERVICES)
        slow = start_slow_app(free_port(), stack.env, work_dir / "logs" / stack.prefix)
        await asyncio.to_thread(wait_ready, slow)
        probe = await probe_for(stack)
        shop = Shop(stack)
        try:
            await _outage_and_recovery(stack, shop, probe, slow, store, data, port, work_dir)
        finally:
            await shop.close()
    finally:
        if slow is not None:
            slow.stop(grace_s=5)
        stack.stop()


async def _outage_and_recovery(  # type: ignore[no-untyped-def]
    stack: Stack, shop: Shop, probe, slow: Proc, store: Proc, data: Path, port: int, work_dir: Path
) -> None:
    customer = await shop.customer()
    sku = await shop.product(on_hand=10_000)
    before = [(await shop.place(customer, [(sku, 1)]))["order_id"] for _ in range(3)]
    await asyncio.gather(*(shop.wait_status(o, "ready_to_ship") for o in before[:1]))
    answers: list[Answer] = []
    phase = {"now": "up"}
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=slow.url, timeout=30) as slow_http:
        held = asyncio.create_task(slow_http.post("/things", json={"thing_id": uid("held"), "hold": True}))
        await eventually(lambda: _in_flight(slow_http), within=10, what="a request in flight at the slow app")
        traffic = asyncio.create_task(_traffic(shop, customer, sku, before[0], phase, answers, stop))
        # Sagas in flight when the store goes: their deliveries fail and are retried, never parked.
        during = [(await shop.place(customer, [(sku, 2)]))["order_id"] for _ in range(2)]

        phase["now"] = "down"
        store.stop()
        started = time.monotonic()
        await slow_http.post("/ops/release")  # the held request goes on to its write: no store
        in_flight = answer("held request", "down", await held, started)
        await eventually(lambda: _seen_down(answers), within=30, what="503s from every service's store")

        phase["now"] = "back"
        restarted = start_store(data, port, work_dir / "logs")
        assert restarted.url == store.url
        try:
            await eventually(lambda: _all_ready(stack), within=60, what="every service ready again")
            stop.set()
            await traffic

            for a in [in_flight, *answers]:
                assert a.status in (200, 201, 503), a
                assert a.elapsed_s < BOUND_S, a  # an answer within the bound, never a hang
                if a.status == 503:
                    assert a.code in OUTAGE_CODES and a.retry_after and int(a.retry_after) >= 1, a
            assert (in_flight.status, in_flight.code) == (503, "store_unavailable"), in_flight

            placed = before + during + [a.order_id for a in answers if a.order_id]
            await asyncio.gather(*(shop.deliver(order_id) for order_id in placed))
            for order_id in placed:
                order = await shop.order(order_id)
                assert (order["status"], order.get("stuck")) == ("completed", None), order_id
                assert len(order["invoice_ids"]) == 1, order
            await synced(probe)
            for service in SERVICES:
                assert await probe.parked(service) == [], f"{service} parked messages"
            retried = [line for name in SERVICES for line in stack.log_lines(name)
                       if str(line.get("msg", "")).startswith("handler failed, retrying")]  # fmt: skip
            assert any(_store_error(line) for line in retried), retried  # the outage did reach consumers
        finally:
            restarted.stop()


STORE_ERRORS = ("AutoReconnect", "ServerSelectionTimeoutError", "NetworkTimeout", "ConnectionFailure")


def _store_error(line: dict[str, object]) -> bool:
    return str(line.get("error", "")).startswith(STORE_ERRORS)


async def _in_flight(http: httpx.AsyncClient) -> bool:
    return bool((await http.get("/ops/door")).json()["in_flight"] >= 1)


def _seen_down(answers: list[Answer]) -> bool:
    down = {a.what.split(" ")[0] for a in answers if a.phase == "down" and a.code == "store_unavailable"}
    return {"intake", "inventory", "billing"} <= down


async def _all_ready(stack: Stack) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        for name in stack.procs:
            try:
                if (await http.get(f"{stack.url(name)}/ready")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


async def _traffic(  # type: ignore[no-untyped-def]
    shop: Shop, customer: str, sku: str, order_id: str, phase, answers: list[Answer], stop: asyncio.Event
) -> None:
    """What clients keep doing through the outage, each in its own loop: read an order, the stock and
    the customer, and place a few orders; each answer recorded with the phase it was asked in."""
    storefront = shop.as_("storefront")["intake"]
    calls = {
        "intake GET /orders/{id}": lambda: shop.http["intake"].get(f"/orders/{order_id}"),
        "inventory GET /stock/{sku}": lambda: shop.http["inventory"].get(f"/stock/{sku}"),
        "billing GET /customers/{id}": lambda: shop.http["billing"].get(f"/customers/{customer}"),
        "intake POST /orders": lambda: storefront.post("/orders", json=shop.order_body(customer, [(sku, 1)])),
    }

    async def client(what: str, call, most: int) -> None:  # type: ignore[no-untyped-def]
        for _ in range(most):
            if stop.is_set():
                return
            asked_in, started = phase["now"], time.monotonic()
            answers.append(answer(what, asked_in, await call(), started))
            await asyncio.sleep(0.1)  # pacing, not a wait: the loop ends when the test sets ``stop``

    most = {what: 6 if "POST" in what else 10**4 for what in calls}
    await asyncio.gather(*(client(what, call, most[what]) for what, call in calls.items()))


# --- a consumer meeting an unreachable store retries; it does not park ---------------------------------


class RetrySettings(ServiceSettings):
    service_name: ClassVar[str] = "storeretry"


async def test_a_handler_failing_on_an_unreachable_store_is_retried_not_parked(
    amqp_url, mongo_url, probe_for
):
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = RetrySettings(amqp_url=amqp_url, mongo_url=mongo_url, bus_prefix=prefix, db_prefix=prefix,
                             retry_delays_ms=[50, 100], max_attempts=5)  # fmt: skip
    probe = await probe_for(prefix)
    failures = [ServerSelectionTimeoutError("no store"), AutoReconnect("connection reset")]
    calls: list[str] = []
    done = asyncio.Event()

    async def handler(message: ReleaseStock, envelope: Envelope) -> None:
        calls.append(envelope.message_id)
        if failures:
            raise failures.pop(0)
        done.set()

    bus = Bus(settings)
    bus.subscribe(ReleaseStock, handler)
    await bus.connect()
    await bus.start_consuming()
    try:
        sent = await probe.publish(ReleaseStock(order_id="SO-STORE"))
        await asyncio.wait_for(done.wait(), 10)
        await synced(probe)
        parked = await parked_until(probe, "storeretry", 0)
    finally:
        await bus.close()
        await delete_topology(amqp_url, prefix, ["storeretry"], settings.retry_delays_ms)

    assert calls == [sent.message_id] * 3 and parked == []
    assert probe.matching("MessageParked") == []
