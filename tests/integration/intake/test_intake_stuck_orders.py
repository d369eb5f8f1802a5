"""An order whose step is parked is visible as stuck (issue 7), on the real store and broker: the
probe plays the service that parked the order's command and reports it (``MessageParked``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared import contracts as c
from tests.integration.intake.test_intake_saga_bus import answer, place, wait_status
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


async def wait_stuck(api, order_id: str, stuck: bool, within: float = 15) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while True:
        order: dict[str, Any] = (await api.get(f"/orders/{order_id}")).json()
        if (order.get("stuck") is not None) == stuck:
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{order_id} stuck={order.get('stuck')}, expected stuck={stuck}")
        await asyncio.sleep(0.1)


async def listed(api, **params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    response = await api.get("/orders", params={**params, "limit": 500})
    assert response.status_code == 200, response.text
    return [o["order_id"] for o in response.json()["items"]]


async def test_a_parked_command_marks_its_order_stuck_until_its_replay_is_answered(
    api, door, probe, stack: Stack
):
    order_id = await place(api, door)
    credit = c.CreditReserved(order_id=order_id, customer_id="x", amount=20_000, exposure=20_000)
    await answer(probe, "ReserveCredit", order_id, credit)
    [reserve] = await probe.wait_for("ReserveStock", order_id)
    report = c.MessageParked(
        order_id=order_id, message_id=reserve.message_id, message_type="ReserveStock",
        service="inventory", error="ValueError: cannot ever work", attempts=5,
    )  # fmt: skip
    await probe.publish(report, producer="inventory", causation=reserve)  # what inventory's bus sends

    marked = await wait_stuck(api, order_id, True)

    assert marked["status"] == "approved"  # the mark moves nothing
    mark = marked["stuck"]
    assert (mark["step"], mark["message_type"], mark["service"]) == ("stock", "ReserveStock", "inventory")
    assert mark["message_id"] == reserve.message_id
    assert "cannot ever work" in mark["error"] and mark["since"]
    assert marked["history"][-1]["event"] == "MessageParked" and marked["history"][-1]["by"] == "inventory"
    assert order_id in await listed(api, stuck="true")
    assert order_id not in await listed(api, stuck="false")
    async with stack.client("intake", as_="storefront") as shop:
        refused = await shop.get("/orders", params={"stuck": "true"})
        assert refused.status_code == 403
        assert refused.json()["error"]["fields"] == {"stuck": "internal roles only"}

    # A person replays the parked ReserveStock; inventory answers it.
    reserved = c.StockReserved(order_id=order_id, lines=[c.LineQty(sku="any", quantity=2)])
    await probe.publish(reserved, producer="inventory", causation=reserve)
    await wait_stuck(api, order_id, False)

    cleared = await wait_status(api, order_id, "ready_to_ship")
    assert cleared["stuck"] is None
    assert any(h["event"] == "stuck_cleared" for h in cleared["history"])
    assert order_id not in await listed(api, stuck="true")
