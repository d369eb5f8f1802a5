"""The order saga through all six services, as storefront, warehouse and finance see it."""

from __future__ import annotations

import re

from tests.support.api import Shop
from tests.support.probe import BusProbe


def statuses(order: dict) -> list[str]:
    return [h["status"] for h in order["history"] if h.get("status")]


async def test_an_order_goes_from_intake_to_invoice_and_completes(shop: Shop, probe: BusProbe):
    customer = await shop.customer(credit_limit=1_000_000)
    sku = await shop.product(on_hand=20, price=12_000)

    placed = await shop.place(customer, [(sku, 3)])
    order_id = placed["order_id"]
    ready = await shop.wait_status(order_id, "ready_to_ship")
    held = (await shop.credit(customer))["exposure"], await shop.stock(sku)
    done = await shop.deliver(order_id)

    assert re.fullmatch(r"SO\d{6}\d{3,}", order_id)  # R1.3
    assert placed["status"] == "pending_review" and placed["total"] == 36_000
    assert ready["total"] == 36_000
    assert held[0] == 36_000 and held[1]["reserved"] == 3 and held[1]["available"] == 17  # R3.1, R4.1
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (17, 0, 17)
    [invoice] = await shop.invoices(order_id)
    assert invoice["kind"] == "invoice" and invoice["total"] == 36_000
    assert invoice["tax"] == 4_142  # 13 % VAT included in the price: 36000 * 13 / 113, rounded (R6.1)
    assert done["tracking_numbers"] and invoice["invoice_id"] in done["invoice_ids"]  # R5.2
    assert statuses(done) == [
        "pending_review",
        "approved",
        "ready_to_ship",
        "shipped",
        "delivered",
        "completed",
    ]
    assert all(h["at"] for h in done["history"])  # R9.3: when, what, why
    assert (await shop.credit(customer))["exposure"] == 36_000  # the hold became a receivable


async def test_every_message_of_an_order_belongs_to_one_trace(shop: Shop, probe: BusProbe):
    customer = await shop.customer()
    sku = await shop.product(on_hand=5)

    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    await probe.wait_for("ShipmentCreated", order_id)

    messages = [e for e in probe.seen if e.correlation_id == order_id]
    trace_ids = {e.trace["traceparent"].split("-")[1] for e in messages}
    assert len(messages) >= 6
    assert len(trace_ids) == 1, trace_ids


async def test_an_order_over_the_credit_limit_waits_for_a_person_and_reserves_no_stock(shop: Shop):
    customer = await shop.customer(credit_limit=10_000)
    sku = await shop.product(on_hand=10, price=12_000)

    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    held = await shop.wait_status(order_id, "on_hold")
    stock_while_held = await shop.stock(sku)
    exposure_while_held = (await shop.credit(customer))["exposure"]
    await shop.approve(order_id)
    approved = await shop.wait_status(order_id, "ready_to_ship")

    assert stock_while_held["reserved"] == 0 and exposure_while_held == 0  # R3.1: nothing done yet
    assert held["history"][-1]["reason"]
    assert any(h.get("by") == "manager.wang" for h in approved["history"])  # R2.2: who approved
    assert (await shop.stock(sku))["reserved"] == 1
    assert (await shop.deliver(order_id))["status"] == "completed"


async def test_a_prepaid_customer_skips_the_credit_check(shop: Shop):
    customer = await shop.customer(credit_limit=0, terms="prepaid")
    sku = await shop.product(on_hand=3)

    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]

    # No credit is at risk; a manager signs prepayment terms off (R2.2), then the order waits
    # for its money before shipping (R3.3, issue 5).
    await shop.wait_status(order_id, "on_hold")
    await shop.approve(order_id)
    waiting = await shop.wait_status(order_id, "awaiting_payment")
    assert waiting["awaiting"]["outstanding"] == waiting["total"]
    assert (await shop.credit(customer))["exposure"] == 0


async def test_a_shortage_of_a_bought_item_raises_a_purchase_order_and_ships_once_it_arrives(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=2, sourcing="buy", lead=7)

    order_id = (await shop.place(customer, [(sku, 5)]))["order_id"]
    waiting = await shop.wait_status(order_id, "awaiting_stock")
    supply = await shop.wait_supply_orders(order_id)
    await shop.complete_supply(supply[0]["supply_order_id"])
    ready = await shop.wait_status(order_id, "ready_to_ship")

    assert [(s["kind"], s["sku"], s["quantity"]) for s in supply] == [("purchase", sku, 3)]  # R4.2
    assert supply[0]["expected_at"]
    assert waiting["status"] == "awaiting_stock"
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 5, 0)
    assert ready["status"] == "ready_to_ship"
    assert (await shop.deliver(order_id))["status"] == "completed"
    assert (await shop.stock(sku))["on_hand"] == 0


async def test_a_shortage_of_a_manufactured_item_raises_a_production_order(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=0, sourcing="make", lead=14)

    order_id = (await shop.place(customer, [(sku, 4)]))["order_id"]
    await shop.wait_status(order_id, "awaiting_stock")
    supply = await shop.wait_supply_orders(order_id)

    assert [(s["kind"], s["quantity"], s["status"]) for s in supply] == [("production", 4, "open")]
    order = await shop.order(order_id)
    assert any(s["supply_order_id"] == supply[0]["supply_order_id"] for s in order["supply_orders"])
