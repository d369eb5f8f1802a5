"""An order whose step is parked is visible as stuck, not silently waiting (issue 7): a command of a
real order parks in the service it was sent to, that service's bus reports it, and operations see
the order stuck (the step, the message, the service, the error, since when) until the parked
command, fixed, is replayed and answered."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import Shop
from tests.support.barriers import parked_until
from tests.support.probe import BusProbe


async def wait_stuck(shop: Shop, order_id: str, stuck: bool, within: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    order: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        order = await shop.order(order_id)
        if (order.get("stuck") is not None) == stuck:
            return order
        await asyncio.sleep(0.2)
    raise AssertionError(f"{order_id} stuck={order.get('stuck')}, expected stuck={stuck}")


async def stuck_orders(shop: Shop) -> list[str]:
    page = await shop.ok(await shop.http["intake"].get("/orders", params={"stuck": "true", "limit": 500}))
    return [o["order_id"] for o in page["items"]]


async def test_a_parked_command_shows_its_order_stuck_until_it_is_replayed(shop: Shop, probe: BusProbe):
    customer = await shop.customer()
    sku = await shop.product(on_hand=0, sourcing="buy")
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.wait_supply_orders(order_id)
    [raise_supply] = probe.matching("RaiseSupply", order_id)
    await probe.parked("fulfillment")  # start from an empty parking queue
    # A copy fulfillment cannot read (what a bad value or a bug looks like to its handler): parked.
    broken = raise_supply.model_copy(
        update={"message_id": f"broken-{raise_supply.message_id}",
                "payload": {**raise_supply.payload, "shortages": "not a list"}}
    )  # fmt: skip
    await probe.publish(raise_supply.message(), envelope=broken)  # the envelope, byte for byte

    marked = await wait_stuck(shop, order_id, True)
    [(body, headers)] = await parked_until(probe, "fulfillment", 1)

    assert marked["status"] == "awaiting_stock"  # stuck is a mark, not a status
    mark = marked["stuck"]
    assert (mark["step"], mark["message_type"], mark["service"]) == ("supply", "RaiseSupply", "fulfillment")
    assert mark["message_id"] == broken.message_id and "invalid RaiseSupply payload" in mark["error"]
    assert mark["since"] and mark["parked_messages"] == 1
    assert body == broken.model_dump_json().encode() and "invalid RaiseSupply" in str(headers["x-error"])
    assert order_id in await stuck_orders(shop)
    seen = await shop.ok(await shop.as_("storefront")["intake"].get(f"/orders/{order_id}"))
    assert "stuck" not in seen and "MessageParked" not in str(seen)  # the customer sees neither

    # A person fixes the parked command and replays it: fulfillment answers, the mark goes.
    fixed = broken.model_copy(update={"payload": raise_supply.payload})
    await probe.publish(raise_supply.message(), envelope=fixed)
    cleared = await wait_stuck(shop, order_id, False)

    assert cleared["status"] == "awaiting_stock"
    assert [h["event"] for h in cleared["history"] if h["event"] in ("MessageParked", "stuck_cleared")] == [
        "MessageParked", "stuck_cleared"]  # fmt: skip
    assert order_id not in await stuck_orders(shop)
    supply = await shop.wait_supply_orders(order_id)
    await shop.complete_supply(supply[0]["supply_order_id"])
    assert (await shop.wait_status(order_id, "ready_to_ship"))["stuck"] is None
