"""A burst of ten times the sustained order rate (issue 9): the doors shed what they cannot take with
429/503 and ``Retry-After`` instead of letting clients time out, nothing admitted is lost, and the
backlog drains: every order that got its 201 completes, nothing is stuck or parked, every queue ends
empty.

All six services run on a stack of this test's own with a low in-flight bound (``MAX_IN_FLIGHT`` =
``BURST_MAX_IN_FLIGHT``, 16) so that the burst meets it on a small machine. The arrivals are open
loop: each POST on its own timer at ``BURST_FACTOR`` (10) x ``BURST_BASE_RATE`` (5 orders/s) for
``BURST_S`` seconds, whatever the earlier ones are doing. The suite runs 10 s; the full profile of
the issue is 60 s::

    BURST_S=60 .venv/bin/python -m pytest tests/e2e/test_burst.py -q

Each order is one lamp; once its ``ShipmentCreated`` is on the bus the carrier reports ``picked_up``
and ``delivered``, every call retried after its ``Retry-After`` when shed, as a real client would.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from shared.bus import Names
from shared.registry import SERVICES
from tests.support.api import Shop
from tests.support.barriers import eventually, synced
from tests.support.probe import BusProbe
from tests.support.stack import Stack

BURST_S = float(os.environ.get("BURST_S", "10"))
# Orders/s a stack sustains end to end on the 2-core machine: `make bench` measures 7.5 to 15 at
# most, with every process sharing two cores; 10 x 5 = 50 POSTs a second is well over what the
# door admits (about 20/s here), so the burst does meet the bound.
BASE_RATE = float(os.environ.get("BURST_BASE_RATE", "5"))
FACTOR = float(os.environ.get("BURST_FACTOR", "10"))
MAX_IN_FLIGHT = int(os.environ.get("BURST_MAX_IN_FLIGHT", "16"))
# A shed answer comes at once; this bounds it with room for a machine whose cores others share.
SHED_WITHIN_S = float(os.environ.get("BURST_SHED_WITHIN_S", "10"))
SHED = (429, 503)
DRAIN_S = 120 + 6 * BURST_S  # for every admitted order to complete after the burst


@dataclass
class Arrival:
    at_s: float  # scheduled, from the start of the burst
    status: int = 0
    code: str | None = None
    retry_after: str | None = None
    elapsed_s: float = 0.0
    order_id: str | None = None
    failure: str | None = None  # a timeout or a broken connection: what must never happen


@pytest.fixture
def burst_stack(amqp_url: str, mongo_url: str, work_dir: Path) -> Iterator[Stack]:
    """Six services of this test's own, stopped right after it (not at the end of the session)."""
    env = {"MAX_IN_FLIGHT": str(MAX_IN_FLIGHT)}
    stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work_dir / "logs", extra_env=env)
    try:
        yield stack.start(SERVICES)
    finally:
        stack.stop()


def client(stack: Stack, service: str, role: str) -> httpx.AsyncClient:
    """No pool limit: an open-loop generator must not queue in its own client, only at the door."""
    return httpx.AsyncClient(
        base_url=stack.url(service), timeout=30, headers={"Authorization": f"Bearer {stack.key(role)}"},
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
    )  # fmt: skip


async def patient(
    call: Callable[..., Awaitable[httpx.Response]], url: str, within: float = 60, **kwargs: Any
) -> httpx.Response:
    """``call(url, **kwargs)`` as a client that honours the door: on 429/503 it waits what
    ``Retry-After`` says and asks again."""
    deadline = time.monotonic() + within
    while True:
        response = await call(url, **kwargs)
        if response.status_code not in SHED or time.monotonic() > deadline:
            return response
        assert response.headers.get("Retry-After"), response.text
        await asyncio.sleep(min(float(response.headers["Retry-After"]), 2.0))


async def test_a_burst_of_ten_times_the_rate_is_shed_at_the_door_and_every_admitted_order_completes(
    burst_stack: Stack, probe_for
):
    stack = burst_stack
    probe: BusProbe = await probe_for(stack)
    shop = Shop(stack)
    storefront, ops = client(stack, "intake", "storefront"), client(stack, "intake", "ops")
    carrier = client(stack, "logistics", "carrier")
    try:
        customers = [await shop.customer(credit_limit=10**12) for _ in range(5)]
        skus = [await shop.product(on_hand=100_000, price=9_900) for _ in range(5)]
        arrivals = await burst(storefront, shop, customers, skus)
        answers = Counter(a.status for a in arrivals)
        codes = Counter(a.code for a in arrivals if a.code)
        slowest = max((a.elapsed_s for a in arrivals), default=0.0)
        print(f"burst: {len(arrivals)} POST /orders in {BURST_S:.0f} s ({FACTOR * BASE_RATE:.0f}/s): "
              f"{dict(answers)} {dict(codes)}, slowest answer {slowest:.2f} s")  # fmt: skip

        assert [a for a in arrivals if a.failure] == []  # nothing timed out or broke: every one answered
        for a in arrivals:
            assert a.status == 201 or a.status in SHED, a
            if a.status in SHED:
                assert a.code in ("overloaded", "rate_limited", "dependency_unavailable"), a
                assert a.retry_after and int(a.retry_after) >= 1, a
                assert a.elapsed_s < SHED_WITHIN_S, a  # shed quickly, not after queueing
        admitted = [a.order_id for a in arrivals if a.order_id]
        assert admitted, answers  # the door kept admitting during the burst

        drained = await drain(probe, ops, carrier, admitted)
        print(f"burst: {len(admitted)} admitted orders completed {drained:.1f} s after the burst")
        await assert_nothing_left(stack, probe, ops, admitted)
    finally:
        for http in (storefront, ops, carrier):
            await http.aclose()
        await shop.close()


async def burst(
    storefront: httpx.AsyncClient, shop: Shop, customers: list[str], skus: list[str]
) -> list[Arrival]:
    """Open loop: arrival i is sent at i / rate seconds, each on its own task."""
    rate = FACTOR * BASE_RATE
    arrivals = [Arrival(at_s=i / rate) for i in range(int(rate * BURST_S))]
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def arrive(n: int, arrival: Arrival) -> None:
        await asyncio.sleep(max(0.0, start + arrival.at_s - loop.time()))  # its scheduled moment
        body = shop.order_body(customers[n % len(customers)], [(skus[n % len(skus)], 1)])
        began = loop.time()
        try:
            key = {"Idempotency-Key": uuid.uuid4().hex}
            response = await storefront.post("/orders", json=body, headers=key)
        except httpx.HTTPError as exc:
            arrival.failure = repr(exc)
            return
        arrival.elapsed_s = loop.time() - began
        arrival.status, arrival.retry_after = response.status_code, response.headers.get("Retry-After")
        if response.status_code == 201:
            arrival.order_id = response.json()["order_id"]
        else:
            arrival.code = response.json()["error"]["code"]  # the standard error body, always

    await asyncio.gather(*(arrive(n, a) for n, a in enumerate(arrivals)))
    return arrivals


async def drain(
    probe: BusProbe, ops: httpx.AsyncClient, carrier: httpx.AsyncClient, order_ids: list[str]
) -> float:
    """Ship and deliver every admitted order as its shipment is booked; wait until all completed."""
    started = time.monotonic()
    gate = asyncio.Semaphore(8)

    async def one(order_id: str) -> None:
        created = await probe.wait_for("ShipmentCreated", order_id, within=DRAIN_S)
        events = f"/shipments/{created[0].payload['shipment_id']}/events"
        async with gate:
            for event in ("picked_up", "delivered"):
                response = await patient(carrier.post, events, json={"type": event})
                assert response.status_code < 300, (order_id, event, response.text)

    await asyncio.gather(*(one(o) for o in order_ids))
    remaining = set(order_ids)

    async def all_completed() -> bool:
        for order_id in list(remaining):
            response = await patient(ops.get, f"/orders/{order_id}")
            if response.status_code == 200 and response.json()["status"] == "completed":
                remaining.discard(order_id)
        return not remaining

    await eventually(all_completed, within=DRAIN_S, interval=0.5, what=f"{len(order_ids)} orders completed")
    return time.monotonic() - started


async def assert_nothing_left(
    stack: Stack, probe: BusProbe, ops: httpx.AsyncClient, order_ids: list[str]
) -> None:
    """Every admitted order completed once, none stuck, no message parked, every queue empty."""
    for order_id in order_ids:
        order = (await patient(ops.get, f"/orders/{order_id}")).json()
        ended = (order["status"], order.get("stuck"), len(order["invoice_ids"]))
        assert ended == ("completed", None, 1), order
    stuck = (await patient(ops.get, "/orders", params={"stuck": "true", "limit": 500})).json()
    assert not {o["order_id"] for o in stuck["items"]} & set(order_ids), stuck
    await synced(probe)

    async def queues_empty() -> dict[str, int] | None:
        depths = await queue_depths(stack)
        return None if any(depths.values()) else depths

    depths = await eventually(queues_empty, within=30, what="every work queue empty")
    assert all(n == 0 for n in depths.values())
    for service in SERVICES:
        assert await probe.parked(service) == [], f"{service} parked messages"


async def queue_depths(stack: Stack) -> dict[str, int]:
    """Messages ready in each service's work and parking queue."""
    connection = await aio_pika.connect(stack.amqp_url)
    try:
        channel = await connection.channel()
        depths = {}
        for service in SERVICES:
            names = Names(stack.prefix, service)
            for queue in (names.queue, names.parked):
                declared = await channel.declare_queue(queue, passive=True)
                depths[queue] = declared.declaration_result.message_count or 0
        return depths
    finally:
        await connection.close()
