"""Load shedding at every service's door (issue 9): with ``MAX_IN_FLIGHT`` requests in a process,
the next one is answered at once with 503 ``overloaded``, ``Retry-After`` and the error body; what
was admitted completes and is stored; ``/health``, ``/ready`` and ``/ops/*`` are never shed.

The first test uses a tiny service on the real platform (tests/support/slow_app.py) whose requests
stay in flight until the test releases them, so "the door is full" is a state the test waits for,
not a race; the second floods a real service (inventory) with a bound of 1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.processes import Proc, free_port, wait_ready
from tests.support.api import uid
from tests.support.barriers import eventually
from tests.support.slow_app import start_slow_app
from tests.support.stack import Stack
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration

LIMIT = 3


@pytest.fixture
async def slow_app(amqp_url: str, mongo_url: str, work_dir: Path) -> AsyncIterator[Proc]:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    env = {"AMQP_URL": amqp_url, "MONGO_URL": mongo_url, "BUS_PREFIX": prefix, "DB_PREFIX": prefix,
           "MAX_IN_FLIGHT": str(LIMIT), "LOG_LEVEL": "INFO", "SHUTDOWN_GRACE_S": "2"}  # fmt: skip
    proc = start_slow_app(free_port(), env, work_dir / "logs" / prefix)
    try:
        await asyncio.to_thread(wait_ready, proc)
        yield proc
    finally:
        async with httpx.AsyncClient(base_url=proc.url, timeout=5) as http:
            try:
                await http.post("/ops/release")  # nothing held keeps the shutdown waiting
            except httpx.HTTPError:
                pass
        proc.stop(grace_s=10)
        await delete_topology(amqp_url, prefix, [], [])


def assert_shed(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "overloaded", response.text
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert int(response.headers["Retry-After"]) >= 1


async def test_requests_over_the_bound_get_503_at_once_and_the_admitted_ones_complete(slow_app: Proc):
    async with httpx.AsyncClient(base_url=slow_app.url, timeout=15) as http:

        async def door() -> dict[str, Any]:
            return (await http.get("/ops/door")).json()  # type: ignore[no-any-return]

        held_ids = [uid("held") for _ in range(LIMIT)]
        held = [asyncio.create_task(http.post("/things", json={"thing_id": t, "hold": True}))
                for t in held_ids]  # fmt: skip
        await eventually(lambda: _full(door), within=10, what=f"{LIMIT} requests in flight")

        loop = asyncio.get_running_loop()
        started = loop.time()
        extra_ids = [uid("extra") for _ in range(8)]
        extra = await asyncio.gather(*(http.post("/things", json={"thing_id": t}) for t in extra_ids))
        shed_within = loop.time() - started
        health, ready, ops = await asyncio.gather(*(http.get(p) for p in ("/health", "/ready", "/ops/door")))

        for response in extra:
            assert_shed(response)
        assert shed_within < 5  # answered at once, not queued until a client times out
        assert (health.status_code, ready.status_code, ops.status_code) == (200, 200, 200)
        assert all(not task.done() for task in held)  # the admitted ones are still being worked on

        assert (await http.post("/ops/release")).status_code == 200
        admitted = await asyncio.gather(*held)

        assert [r.status_code for r in admitted] == [201] * LIMIT, [r.text for r in admitted]
        for thing_id in held_ids:  # nothing admitted is lost
            assert (await http.get(f"/things/{thing_id}")).json() == {"thing_id": thing_id, "held": True}
        for thing_id in extra_ids:  # nothing shed was half done
            gone = await http.get(f"/things/{thing_id}")
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        state = await door()
        assert state["shed"] == len(extra) and state["in_flight"] == 0  # /ops/ is not counted
        after = await http.post("/things", json={"thing_id": uid("after")})
        assert after.status_code == 201, after.text  # room again once the held ones are done


async def _full(door: Any) -> bool:
    state = await door()
    return bool(state["in_flight"] >= LIMIT)


async def test_a_real_service_sheds_a_flood_and_keeps_every_write_it_admitted(make_stack):
    stack: Stack = make_stack("inventory", env={"MAX_IN_FLIGHT": "1"})
    async with stack.client("inventory", as_="erp") as erp:
        answers: dict[str, httpx.Response] = {}
        for _ in range(10):  # a flood of 30 at once; rounds until the door has shed some
            skus = [uid("SKU") for _ in range(30)]
            body = {"name": "Lamp", "unit_price": 12_000, "sourcing": "buy", "lead_time_days": 5}
            responses = await asyncio.gather(*(erp.put(f"/products/{sku}", json=body) for sku in skus))
            answers.update(zip(skus, responses, strict=True))
            if any(r.status_code == 503 for r in responses):
                break

        shed = [sku for sku, r in answers.items() if r.status_code == 503]
        admitted = [sku for sku, r in answers.items() if r.status_code in (200, 201)]
        assert shed and admitted, {r.status_code for r in answers.values()}
        assert len(shed) + len(admitted) == len(answers), {r.status_code for r in answers.values()}
        for sku in shed:
            assert_shed(answers[sku])
        for sku in admitted:
            product = await erp.get(f"/products/{sku}")
            assert product.status_code == 200 and product.json()["sku"] == sku, product.text
        health = await erp.get("/health")
        assert health.status_code == 200
