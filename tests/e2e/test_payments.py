"""Money in the loop, every service running (issue 5, R3.2, R3.3, R6.1, R7.1): payment gates hold
an order until finance confirms money, unpaid orders expire, cancelling refunds what was paid.

The stack waits for money a few seconds (a setting) so the expiry can be watched; everything else
pays long before that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.api import Shop, uid
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

WAIT_S = 20.0  # how long an order waits for money here (production: 72 h)
REMINDER_S = 4.0


@pytest.fixture(scope="module")
def money_stack(make_stack: Callable[..., Stack]) -> Stack:
    hours = {
        "INTAKE_PAYMENT_WAIT_H": str(WAIT_S / 3600),
        "INTAKE_PAYMENT_REMINDERS_H": str(REMINDER_S / 3600),
    }
    return make_stack(env=hours)


@pytest.fixture
async def shop(money_stack: Stack) -> AsyncIterator[Shop]:
    async with Shop(money_stack) as shop:
        yield shop


async def pay(shop: Shop, order_id: str, amount: int, reference: str | None = None, **extra: Any) -> Any:
    """Finance (here the company's ERP key) records money received for the order (R3.3)."""
    body = {"order_id": order_id, "amount": amount, "reference": reference or uid("BANK"), **extra}
    return await shop.as_("erp")["billing"].post("/payments", json=body)


async def signed_off(shop: Shop, order_id: str) -> None:
    """Prepayment terms need a manager's approval first (R2.2)."""
    held = await shop.wait_status(order_id, "on_hold")
    assert "prepaid terms" in held["history"][-1]["reason"]
    await shop.approve(order_id)


async def test_a_prepaid_order_waits_before_shipping_and_ships_once_paid(shop: Shop) -> None:
    customer = await shop.customer(terms="prepaid")
    sku = await shop.product(on_hand=5, price=12_000)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await signed_off(shop, order_id)

    waiting = await shop.wait_status(order_id, "awaiting_payment")
    assert waiting["payment_terms"] == "prepaid" and waiting["amount_due"] == 24_000
    assert waiting["awaiting"]["before"] == "shipping" and waiting["awaiting"]["outstanding"] == 24_000
    assert (await shop.stock(sku))["reserved"] == 2  # the paying customer keeps the stock
    assert await shop.shipments(order_id) == []  # nothing booked before the money (R3.3)
    listed = await shop.ok(await shop.as_("ops")["intake"].get("/finance/awaiting-payment",
                                                             params={"customer_id": customer}))  # fmt: skip
    assert [o["order_id"] for o in listed["items"]] == [order_id]

    first = await pay(shop, order_id, 10_000, reference="BANK-PRE-1")
    again = await pay(shop, order_id, 10_000, reference="BANK-PRE-1")  # delivered twice: counts once
    assert first.status_code in (200, 201) and again.status_code in (200, 201), (first.text, again.text)
    partly = await shop.wait_until(order_id, lambda o: o["payments"]["paid"] == 10_000)
    assert partly["status"] == "awaiting_payment" and partly["amount_due"] == 14_000

    await shop.ok(await pay(shop, order_id, 14_000))
    await shop.wait_status(order_id, "ready_to_ship")
    done = await shop.deliver(order_id)

    assert done["status"] == "completed" and done["amount_due"] == 0
    assert done["payments"]["paid"] == 24_000 and len(done["payments"]["payment_ids"]) == 2
    received = [h for h in done["history"] if h.get("event") == "PaymentReceived"]
    assert len(received) == 2 and all(h["by"] for h in received)  # who recorded it (R9.3)
    [invoice] = await shop.invoices(order_id)
    assert invoice["total"] == 24_000


async def test_a_deposit_gates_production_and_the_balance_gates_shipping(shop: Shop) -> None:
    customer = await shop.customer(terms="deposit")
    sku = await shop.product(on_hand=0, price=10_000, sourcing="make")
    order_id = (await shop.place(customer, [(sku, 3)]))["order_id"]

    waiting = await shop.wait_status(order_id, "awaiting_payment")
    assert waiting["awaiting"]["before"] == "supply" and waiting["awaiting"]["due"] == 9_000  # 30 %
    assert await shop.supply_orders(order_id) == []  # nothing made before the deposit

    await shop.ok(await pay(shop, order_id, 9_000))
    [supply] = await shop.wait_supply_orders(order_id)
    await shop.complete_supply(supply["supply_order_id"])
    balance = await shop.wait_until(order_id, lambda o: (o["awaiting"] or {}).get("gate") == "balance")
    assert balance["status"] == "awaiting_payment" and balance["amount_due"] == 21_000
    assert await shop.shipments(order_id) == []

    await shop.ok(await pay(shop, order_id, 21_000))
    done = await shop.deliver(order_id)
    assert done["status"] == "completed" and done["payments"]["gates_passed"] == ["deposit", "balance"]
    [invoice] = await shop.invoices(order_id)
    assert invoice["total"] == 30_000 and invoice["deducted"] == 30_000 and invoice["amount_due"] == 0  # R6.1


async def test_an_unpaid_order_is_reminded_then_cancelled_with_its_stock_and_credit_back(shop: Shop) -> None:
    customer = await shop.customer(terms="prepaid")
    sku = await shop.product(on_hand=4)
    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await signed_off(shop, order_id)
    await shop.wait_status(order_id, "awaiting_payment")

    cancelled = await shop.wait_status(order_id, "cancelled", within=WAIT_S + 30)

    events = [h.get("event") for h in cancelled["history"]]
    assert "payment_reminder" in events
    cancelling = next(h for h in cancelled["history"] if h.get("status") == "cancelling")
    assert "not paid by" in cancelling["reason"]
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"]) == (4, 0)
    assert (await shop.credit(customer))["exposure"] == 0


async def test_cancelling_after_a_deposit_records_a_refund(shop: Shop) -> None:
    customer = await shop.customer(terms="deposit")
    sku = await shop.product(on_hand=5, price=10_000)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.wait_status(order_id, "awaiting_payment")
    await shop.ok(await pay(shop, order_id, 6_000))
    await shop.wait_until(order_id, lambda o: o["payments"]["paid"] == 6_000)

    assert (await shop.cancel(order_id)).status_code == 202
    cancelled = await shop.wait_status(order_id, "cancelled")

    assert cancelled["payments"]["refunded"] == 6_000 and cancelled["payments"]["refund_ids"]
    assert any(h.get("event") == "PaymentsRefunded" for h in cancelled["history"])
    refunds = await shop.ok(await shop.as_("admin")["billing"].get("/refunds", params={"order_id": order_id}))
    items = refunds["items"] if isinstance(refunds, dict) else refunds
    assert sum(r["amount"] for r in items) == -6_000  # a new negative entry, never an edit (R6.2)
    late = await pay(shop, order_id, 100)
    assert late.status_code == 409, late.text  # the order is closed for money


async def test_bad_payments_are_refused_with_what_is_wrong(shop: Shop) -> None:
    customer = await shop.customer(terms="prepaid")
    sku = await shop.product(on_hand=5, price=12_000)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await signed_off(shop, order_id)
    await shop.wait_status(order_id, "awaiting_payment")

    over = await pay(shop, order_id, 99_999_999)
    unknown = await pay(shop, "SO209912999999", 100)
    currency = await pay(shop, order_id, 100, currency="USD")
    await shop.ok(await pay(shop, order_id, 100, reference="BANK-REUSED"))
    reused = await pay(shop, order_id, 200, reference="BANK-REUSED")

    for response, status in ((over, 409), (unknown, 404), (currency, 422), (reused, 409)):
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"], response.text
    assert "payment_terms" in (await shop.as_("erp")["intake"].post(
        "/orders", json=shop.order_body(customer, [(sku, 1)], channel="erp", payment_terms="L/C at sight")
    )).json()["error"]["fields"]  # fmt: skip
    paid = await shop.wait_until(order_id, lambda o: o["payments"]["paid"] == 100)
    assert paid["status"] == "awaiting_payment"  # only the one good payment counted


async def test_a_net_priced_order_is_charged_and_invoiced_with_its_vat(shop: Shop) -> None:
    """R1.2, R6.1: net unit prices get the VAT rate added; the invoice says which they were."""
    customer = await shop.customer()
    sku = await shop.product(on_hand=3, price=10_000)
    placed = await shop.place(customer, [(sku, 2)], prices_include_tax=False)
    assert placed["total"] == 22_600 and placed["prices_include_tax"] is False  # 20,000 + 13 %

    await shop.deliver(placed["order_id"])
    [invoice] = await shop.invoices(placed["order_id"])

    assert (invoice["total"], invoice["tax"], invoice["net"]) == (22_600, 2_600, 20_000)
    assert invoice["prices_include_tax"] is False and invoice["amount_due"] == 22_600


async def test_a_change_below_what_was_paid_refunds_the_excess(shop: Shop) -> None:
    """R7.2: the customer paid 24,000 for two units, then keeps one: 12,000 is owed back."""
    customer = await shop.customer(terms="prepaid")
    sku = await shop.product(on_hand=5, price=12_000)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await signed_off(shop, order_id)
    await shop.wait_status(order_id, "awaiting_payment")
    await shop.ok(await pay(shop, order_id, 24_000))
    await shop.wait_status(order_id, "ready_to_ship")
    [shipment] = await shop.wait_shipments(order_id)
    await shop.wait_until(order_id, lambda o: shipment["tracking_number"] in o["tracking_numbers"])

    body = {"lines": [{"sku": sku, "quantity": 1}], "reason": "one is enough"}
    response = await shop.as_("storefront")["intake"].post(f"/orders/{order_id}/changes", json=body)
    assert response.status_code == 202, response.text
    done = await shop.wait_until(order_id, lambda o: o["changes"][-1]["status"] in ("applied", "refused"))

    assert done["changes"][-1]["status"] == "applied", done["changes"][-1]
    assert (done["total"], done["payments"]["paid"], done["amount_due"]) == (12_000, 12_000, 0)
    refunds = await shop.ok(await shop.as_("admin")["billing"].get("/refunds", params={"order_id": order_id}))
    assert [(r["amount"], r["status"]) for r in refunds] == [(-12_000, "owed")]
    completed = await shop.deliver(order_id)
    [invoice] = await shop.invoices(order_id)
    assert invoice["total"] == completed["total"] == 12_000 and invoice["amount_due"] == 0
