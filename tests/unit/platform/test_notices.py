"""R2.5 (issue 8): an accepted confirmation tells finance, the warehouse and logistics, once each."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from services.billing.handlers import note_confirmed_order
from services.inventory.domain import Component, Product
from services.inventory.handlers import note_picking
from services.logistics.domain import CarrierRules
from services.logistics.handlers import note_booking_request
from shared.contracts import OrderConfirmed, PricedLine
from shared.envelope import new_envelope
from shared.notices import FakeNotices
from tests.support.fakes_inventory import FakeProductStore

CONFIRMED = OrderConfirmed(
    order_id="SO202612001", customer_id="CUST-1", confirmation_version=1, amount=24_000,
    payment_terms="deposit", lines=[PricedLine(sku="LAMP", quantity=2, unit_price=12_000, amount=24_000)],
    delivery_address="Shanghai, Pudong", contact_name="Li Lei", required_by="2026-12-20", priority="urgent",
)  # fmt: skip
ENVELOPE = new_envelope(CONFIRMED, producer="intake")


async def twice(handler: Any, deps: Any) -> None:
    await handler(CONFIRMED, ENVELOPE, deps)
    await handler(CONFIRMED, ENVELOPE, deps)  # redelivered: kept once


async def test_finance_is_told_the_amount_terms_and_invoice_type() -> None:
    async def get(_customer_id: str) -> None:
        return None  # a customer billing does not know gets the ordinary invoice

    billing = SimpleNamespace(notices=FakeNotices(), customers=SimpleNamespace(get=get),
                              settings=SimpleNamespace(special_invoice_taxpayer="general"))  # fmt: skip
    await twice(note_confirmed_order, billing)

    [notice] = await billing.notices.for_order("finance", CONFIRMED.order_id)
    told = (notice["amount"], notice["payment_terms"], notice["invoice_type"])
    assert told == (24_000, "deposit", "vat_ordinary")


async def test_the_warehouse_gets_a_picking_notice_and_logistics_a_booking_request() -> None:
    inventory = SimpleNamespace(notices=FakeNotices(), products=FakeProductStore())
    rules = CarrierRules("SF Express", "Deppon dedicated", 1_000_000, {})
    logistics = SimpleNamespace(notices=FakeNotices(), rules=rules)
    await twice(note_picking, inventory)
    await twice(note_booking_request, logistics)

    [picking] = await inventory.notices.for_order("picking", CONFIRMED.order_id)
    [booking] = await logistics.notices.for_order("carrier_booking", CONFIRMED.order_id)
    assert picking["lines"] == [{"sku": "LAMP", "quantity": 2}] and picking["priority"] == "urgent"
    assert (booking["carrier"], booking["units"], booking["required_by"]) == ("SF Express", 2, "2026-12-20")


async def test_the_warehouse_picks_a_bundle_as_its_components_r1_9() -> None:
    parts = (Component("LAMP", 1), Component("SHADE", 2))
    bundle = Product("SET", "Desk set", 15_000, "buy", 1, components=parts)
    inventory = SimpleNamespace(notices=FakeNotices(), products=FakeProductStore([bundle]))
    line = PricedLine(sku="SET", quantity=3, unit_price=15_000, amount=45_000)
    confirmed = CONFIRMED.model_copy(update={"lines": [line, *CONFIRMED.lines]})

    await note_picking(confirmed, ENVELOPE, inventory)

    [picking] = await inventory.notices.for_order("picking", CONFIRMED.order_id)
    assert picking["lines"] == [
        {"sku": "LAMP", "quantity": 3, "bundle": "SET"},
        {"sku": "SHADE", "quantity": 6, "bundle": "SET"},
        {"sku": "LAMP", "quantity": 2},
    ]
