"""The order confirmation with every service running (issue 8, R2.4): sent on approval, accepted
or changed by the customer, printable, and a breach when the first one is late.

The stack's confirmation is due a few seconds after receipt (a setting; production: 2 h), so a
flagged order left waiting for its reviewer shows the breach.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.support.api import Shop
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
DUE_S = 3.0


@pytest.fixture(scope="module")
def confirming_stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack(env={"INTAKE_CONFIRMATION_DUE_H": str(DUE_S / 3600)})


@pytest.fixture
async def shop(confirming_stack: Stack) -> AsyncIterator[Shop]:
    async with Shop(confirming_stack) as shop:
        yield shop


async def test_an_approved_order_is_confirmed_the_customer_asks_for_changes_then_accepts(shop: Shop) -> None:
    customer = await shop.customer()
    sku = await shop.product(on_hand=5)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    storefront = shop.as_("storefront")["intake"]

    sent = await shop.ok(await storefront.get(f"/orders/{order_id}/confirmation"))
    assert (sent["version"], sent["status"], sent["late"]) == (1, "sent", False)
    assert sent["lines"][0]["quantity"] == 2 and sent["total"] == 24_000 and sent["required_by"]
    printable = await storefront.get(f"/orders/{order_id}/confirmation.html")
    assert printable.status_code == 200 and printable.headers["content-type"].startswith("text/html")
    assert order_id in printable.text and "240.00" in printable.text

    asked = await shop.ok(await storefront.post(f"/orders/{order_id}/confirmation/changes",
                                                json={"reason": "3 instead of 2"}))  # fmt: skip
    early = await storefront.post(f"/orders/{order_id}/confirmation/accept")
    assert asked["status"] == "changes_requested" and early.status_code == 409
    again = await shop.ok(await shop.as_("ops")["intake"].post(f"/orders/{order_id}/confirmation",
                                                              json={"reason": "talked it over"}))  # fmt: skip
    accepted = await shop.ok(await storefront.post(f"/orders/{order_id}/confirmation/accept"))

    assert again["version"] == 2 and accepted["status"] == "accepted"
    # R2.5: finance, the warehouse and logistics are told once the customer accepted.
    told = {
        ("billing", "/finance-notices", "finance"): None,
        ("inventory", "/picking-notices", "warehouse"): None,
        ("logistics", "/booking-requests", "warehouse"): None,
    }
    for service, path, role in told:
        told[service, path, role] = await shop.poll(
            lambda s=service, p=path, r=role: shop.as_(r)[s].get(p, params={"order_id": order_id})
        )
    finance, picking, booking = told.values()
    assert finance[0]["amount"] == 24_000 and finance[0]["invoice_type"] == "vat_ordinary"
    assert finance[0]["payment_terms"] == "credit"
    assert picking[0]["lines"] == [{"sku": sku, "quantity": 2}] and picking[0]["required_by"]
    assert booking[0]["carrier"] and booking[0]["contact_name"] == "Li Lei"
    history = (await shop.order(order_id))["history"]
    assert [h.get("event") for h in history if (h.get("event") or "").startswith("confirmation")] == [
        "confirmation_sent", "confirmation_changes_requested", "confirmation_sent", "confirmation_accepted",
    ]  # fmt: skip


async def test_a_confirmation_not_sent_in_time_raises_a_breach(shop: Shop) -> None:
    customer = await shop.customer()
    sku = await shop.product(on_hand=5)
    body = shop.order_body(customer, [(sku, 1)])
    body["contact"]["phone"] = "12345"  # flagged: waits for a reviewer, so nothing is confirmed
    order_id = (await shop.ok(await shop.as_("storefront")["intake"].post("/orders", json=body)))["order_id"]

    late = await shop.wait_until(order_id, lambda o: "confirmation_late" in o["flags"], within=DUE_S + 20)

    assert late["status"] == "on_hold"
    breaches = await shop.ok(
        await shop.as_("ops")["intake"].get("/confirmation-breaches", params={"limit": 1000})
    )
    assert order_id in [o["order_id"] for o in breaches]
    await shop.ok(await shop.as_("ops")["intake"].post(f"/orders/{order_id}/approve", json={"reason": "ok"}))
    confirmation = await shop.ok(await shop.as_("ops")["intake"].get(f"/orders/{order_id}/confirmation"))
    assert confirmation["version"] == 1 and confirmation["late"] is True
