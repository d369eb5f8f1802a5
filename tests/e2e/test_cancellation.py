"""Cancelling undoes exactly what was done, at every stage before dispatch (R7.1, R7.3)."""

from __future__ import annotations

from tests.support.api import Shop
from tests.support.stack import Stack


async def assert_everything_released(shop: Shop, customer: str, sku: str, on_hand: int) -> None:
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (on_hand, 0, on_hand)
    assert (await shop.credit(customer))["exposure"] == 0


async def test_cancelling_an_order_on_hold_ends_cancelled_with_nothing_held(shop: Shop):
    customer = await shop.customer(credit_limit=1)
    sku = await shop.product(on_hand=4)
    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.wait_status(order_id, "on_hold")

    response = await shop.cancel(order_id)
    cancelled = await shop.wait_status(order_id, "cancelled")

    assert response.status_code == 202
    assert cancelled["history"][-1]["status"] == "cancelled"
    await assert_everything_released(shop, customer, sku, 4)


async def test_cancelling_after_the_credit_check_releases_the_credit_even_while_inventory_is_down(
    shop: Shop, e2e_stack: Stack
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=4)
    earlier = (await shop.place(customer, [(sku, 1)]))["order_id"]  # intake now knows the SKU
    await shop.wait_status(earlier, "ready_to_ship")
    await shop.cancel(earlier)
    await shop.wait_status(earlier, "cancelled")
    e2e_stack.kill("inventory")  # the door checks against the catalogue's last answer
    try:
        order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
        await shop.wait_status(order_id, "approved")
        exposure_after_credit = (await shop.credit(customer))["exposure"]
        assert (await shop.cancel(order_id)).status_code == 202
        cancelling = await shop.wait_status(order_id, "cancelling")
    finally:
        e2e_stack.restart("inventory")

    await shop.wait_status(order_id, "cancelled")
    assert exposure_after_credit == 24_000 and cancelling["status"] == "cancelling"
    # The late ReserveStock was applied and then undone by ReleaseStock: nothing is left held.
    await assert_everything_released(shop, customer, sku, 4)


async def test_cancelling_after_reservation_releases_the_stock_and_the_credit(shop: Shop, e2e_stack: Stack):
    customer = await shop.customer()
    sku = await shop.product(on_hand=6)
    e2e_stack.kill("logistics")  # the booking stays in flight
    try:
        order_id = (await shop.place(customer, [(sku, 3)]))["order_id"]
        await shop.wait_status(order_id, "ready_to_ship")
        assert (await shop.stock(sku))["reserved"] == 3
        assert (await shop.cancel(order_id)).status_code == 202
    finally:
        e2e_stack.restart("logistics")

    await shop.wait_status(order_id, "cancelled")
    await assert_everything_released(shop, customer, sku, 6)
    assert [s["status"] for s in await shop.shipments(order_id)] in ([], ["cancelled"])


async def test_cancelling_while_awaiting_stock_cancels_the_supply_order_and_releases_partial_stock(
    shop: Shop,
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=1, sourcing="make")
    order_id = (await shop.place(customer, [(sku, 3)]))["order_id"]
    await shop.wait_status(order_id, "awaiting_stock")
    await shop.wait_supply_orders(order_id)

    assert (await shop.cancel(order_id)).status_code == 202
    cancelled = await shop.wait_status(order_id, "cancelled")

    assert [s["status"] for s in await shop.supply_orders(order_id)] == ["cancelled"]
    await assert_everything_released(shop, customer, sku, 1)
    steps = [h.get("event") for h in cancelled["history"] if h.get("event")]
    assert steps.index("SupplyCancelled") < steps.index("StockReleased") < steps.index("CreditReleased")


async def test_cancelling_before_dispatch_cancels_the_booked_shipment(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=2)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    await shop.wait_shipments(order_id)

    assert (await shop.cancel(order_id)).status_code == 202
    await shop.wait_status(order_id, "cancelled")

    assert [s["status"] for s in await shop.shipments(order_id)] == ["cancelled"]
    await assert_everything_released(shop, customer, sku, 2)


async def test_a_shipped_order_cannot_be_cancelled_and_points_to_returns(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=2)
    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    await shop.carrier(order_id, "picked_up")
    await shop.wait_status(order_id, "shipped")

    response = await shop.cancel(order_id)

    assert response.status_code == 409
    assert "return" in response.text.lower()
    assert (await shop.order(order_id))["status"] == "shipped"
