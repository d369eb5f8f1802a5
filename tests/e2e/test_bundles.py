"""Bundles (issue 8, R1.9) and custom products (R2.2) through all six services: a bundle is
reserved, supplied and shipped as its components and invoiced as the bundle; the totals agree."""

from __future__ import annotations

from tests.e2e.test_returns import inspect, request_return
from tests.support.api import Shop
from tests.support.probe import BusProbe


async def test_a_bundle_is_reserved_and_shipped_as_components_and_invoiced_as_the_bundle(
    shop: Shop, probe: BusProbe
):
    customer = await shop.customer()
    lamp, shade = await shop.product(on_hand=10, price=12_000), await shop.product(on_hand=20, price=3_000)
    bundle = await shop.bundle([(lamp, 1), (shade, 2)], price=15_000)

    placed = await shop.place(customer, [(bundle, 3)])
    order_id = placed["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    held = await shop.stock(lamp), await shop.stock(shade)
    [create] = await probe.wait_for("CreateShipment", order_id)
    done = await shop.deliver(order_id)

    # The customer's order and invoice: the bundle at its price (components carry none).
    [line] = placed["lines"]
    assert (line["sku"], line["quantity"], line["unit_price"], line["amount"]) == (bundle, 3, 15_000, 45_000)
    assert line["components"] == [{"sku": lamp, "quantity": 1}, {"sku": shade, "quantity": 2}]
    assert placed["total"] == done["total"] == 45_000
    [invoice] = await shop.invoices(order_id)
    assert [(li["sku"], li["quantity"], li["unit_price"], li["amount"]) for li in invoice["lines"]] == [
        (bundle, 3, 15_000, 45_000)
    ]
    assert invoice["total"] == done["total"]
    # The warehouse: components x 3 were reserved, shipped and left the shelf.
    assert [(s["reserved"], s["available"]) for s in held] == [(3, 7), (6, 14)]
    assert create.payload["lines"] == [{"sku": lamp, "quantity": 3}, {"sku": shade, "quantity": 6}]
    [shipment] = await shop.shipments(order_id)
    packing = await shop.ok(
        await shop.as_("warehouse")["logistics"].get(f"/shipments/{shipment['shipment_id']}/packing-list")
    )
    assert packing["lines"] == [{"sku": lamp, "quantity": 3}, {"sku": shade, "quantity": 6}]
    after = await shop.stock(lamp), await shop.stock(shade)
    assert [(s["on_hand"], s["reserved"]) for s in after] == [(7, 0), (14, 0)]


async def test_a_returned_bundle_puts_its_components_back_and_refunds_the_bundle_price(shop: Shop):
    customer = await shop.customer()
    lamp, shade = await shop.product(on_hand=4, price=12_000), await shop.product(on_hand=8, price=3_000)
    bundle = await shop.bundle([(lamp, 1), (shade, 2)], price=15_000)
    order_id = (await shop.place(customer, [(bundle, 2)]))["order_id"]
    await shop.deliver(order_id)

    part = await shop.as_("storefront")["aftersales"].post(
        "/returns", json={"order_id": order_id, "lines": [{"sku": shade, "quantity": 1}], "reason": "damaged"}
    )
    return_id = await request_return(shop, order_id, [(bundle, 1)])
    await inspect(shop, return_id, "pass")
    returned = await shop.wait_status(order_id, "partially_returned")

    assert part.status_code == 422 and f"part of bundle {bundle}" in str(part.json()["error"]["fields"])
    assert [(await shop.stock(sku))["on_hand"] for sku in (lamp, shade)] == [4 - 2 + 1, 8 - 4 + 2]
    [note] = [i for i in await shop.invoices(order_id) if i["kind"] == "credit_note"]
    assert note["total"] == -15_000
    assert [(li["sku"], li["quantity"]) for li in note["lines"]] == [(bundle, 1)]
    assert returned["returned_quantities"] == {bundle: 1}


async def test_a_short_component_of_a_bundle_raises_supply_for_that_component(shop: Shop):
    customer = await shop.customer()
    lamp, shade = await shop.product(on_hand=1, price=12_000), await shop.product(on_hand=20, price=3_000)
    bundle = await shop.bundle([(lamp, 1), (shade, 2)], price=15_000)

    order_id = (await shop.place(customer, [(bundle, 2)]))["order_id"]
    await shop.wait_status(order_id, "awaiting_stock")
    supply = await shop.wait_supply_orders(order_id)
    await shop.complete_supply(supply[0]["supply_order_id"])
    ready = await shop.wait_status(order_id, "ready_to_ship")

    assert [(s["kind"], s["sku"], s["quantity"]) for s in supply] == [("purchase", lamp, 1)]  # R4.2
    assert [(await shop.stock(sku))["reserved"] for sku in (lamp, shade)] == [2, 4]
    assert ready["total"] == 30_000


async def test_an_order_of_a_custom_product_waits_for_a_manager(shop: Shop):
    customer = await shop.customer()
    lamp = await shop.product(on_hand=5, price=12_000)
    custom = await shop.bundle([(lamp, 1)], price=20_000, custom=True)

    order_id = (await shop.place(customer, [(custom, 1)]))["order_id"]
    held = await shop.wait_status(order_id, "on_hold")
    await shop.approve(order_id)
    approved = await shop.wait_status(order_id, "ready_to_ship")

    assert f"{custom} is a custom product: a manager approves (R2.2)" in held["history"][-1]["reason"]
    assert any(h.get("by") == "manager.wang" for h in approved["history"])
    assert (await shop.stock(lamp))["reserved"] == 1
