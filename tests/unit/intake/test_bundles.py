"""Bundles (issue 8, R1.9): a bundle line keeps its SKU and price for the customer and the invoice,
while stock, supply and shipping work on its components x the line's quantity."""

from __future__ import annotations

import httpx
import pytest

from services.intake.adapters import from_doc, to_fields
from services.intake.adapters.door import HttpCatalogue
from services.intake.domain import saga
from services.intake.domain.order import Line
from services.intake.domain.screening import Policy
from services.intake.domain.validation import LineRequest, validate
from shared import contracts as c
from shared.bounds import MAX_QUANTITY
from shared.errors import DependencyUnavailable
from tests.unit.intake.builders import AT, CATALOGUE, TODAY, Builders, new_id

# A desk set: one lamp and two red shades, sold at its own price (less than the parts' 18,000).
SET = {"name": "Desk set", "unit_price": 15_000, "sourcing": "buy", "lead_time_days": 1,
       "components": [{"sku": "LAMP-1", "quantity": 1}, {"sku": "SHADE-R", "quantity": 2}]}  # fmt: skip
BUNDLES = {**CATALOGUE, "SET-1": SET}


def place(make: Builders, *lines: LineRequest, catalogue=BUNDLES, policy: Policy | None = None):
    request = make.request(lines=list(lines), discount=0, freight=0)
    return saga.place("SO202405000042", request, catalogue, customer_name="Shanghai ACME Trading Co., Ltd.",
                      policy=policy or Policy(), today=TODAY, at=AT)  # fmt: skip


def reply(order, event):
    return saga.on_reply(order, event, message_id=new_id(), at=AT)


def test_a_bundle_line_keeps_the_bundle_and_records_its_components_per_unit(make) -> None:
    order, _ = place(make, LineRequest(sku="SET-1", quantity=3))

    [line] = order.lines
    assert (line.sku, line.name, line.quantity, line.unit_price) == ("SET-1", "Desk set", 3, 15_000)
    assert line.components == {"LAMP-1": 1, "SHADE-R": 2}
    assert order.quantities() == {"SET-1": 3}  # what was ordered
    assert order.stock_quantities() == {"LAMP-1": 3, "SHADE-R": 6}  # what leaves the warehouse
    assert order.subtotal == order.total == 45_000  # the bundle's price; components carry none


def test_a_bundle_and_its_component_ordered_alone_add_up_per_sku(make) -> None:
    order, _ = place(make, LineRequest(sku="SET-1", quantity=2), LineRequest(sku="SHADE-R", quantity=1))

    assert order.quantities() == {"SET-1": 2, "SHADE-R": 1}
    assert order.stock_quantities() == {"LAMP-1": 2, "SHADE-R": 5}
    assert order.total == 2 * 15_000 + 3_000


def test_a_plain_line_is_its_own_stock() -> None:
    assert Line("LAMP-1", "Desk lamp", 4, 12_000).stock_quantities() == {"LAMP-1": 4}


def test_the_bundle_is_reserved_and_shipped_as_components_and_invoiced_as_the_bundle(make) -> None:
    order, _ = place(make, LineRequest(sku="SET-1", quantity=3))
    components = [c.LineQty(sku="LAMP-1", quantity=3), c.LineQty(sku="SHADE-R", quantity=6)]

    [reserve] = reply(order, make.credit_reserved(order))
    [create] = reply(order, c.StockReserved(order_id=order.order_id, lines=components))
    reply(order, make.shipment_created(order))
    sent = reply(order, make.dispatched(order))

    assert isinstance(reserve, c.ReserveStock) and reserve.lines == components
    assert isinstance(create, c.CreateShipment) and create.lines == components
    [invoice] = [cmd for cmd in sent if isinstance(cmd, c.IssueInvoice)]
    assert [(li.sku, li.quantity, li.unit_price, li.amount) for li in invoice.lines] == [
        ("SET-1", 3, 15_000, 45_000)
    ]
    assert invoice.total == order.total == sum(li.amount for li in invoice.lines)
    assert any(isinstance(cmd, c.CommitStock) for cmd in sent)  # commits what was reserved: the components


def test_a_short_component_raises_supply_for_that_component(make) -> None:
    order, _ = place(make, LineRequest(sku="SET-1", quantity=2))
    reply(order, make.credit_reserved(order))
    lamps = c.Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7)
    short = c.StockShort(
        order_id=order.order_id, reserved=[c.LineQty(sku="SHADE-R", quantity=4)], shortages=[lamps]
    )

    [raise_supply] = reply(order, short)

    assert order.status == "awaiting_stock"
    assert isinstance(raise_supply, c.RaiseSupply)
    assert [(s.sku, s.quantity) for s in raise_supply.shortages] == [("LAMP-1", 2)]


def test_returning_every_bundle_returns_the_order(make) -> None:
    """Returns count in the SKUs ordered (aftersales returns a bundle as the bundle)."""
    order, _ = place(make, LineRequest(sku="SET-1", quantity=2))
    for event in (make.credit_reserved, make.stock_reserved, make.shipment_created, make.dispatched,
                  make.delivered):  # fmt: skip
        reply(order, event(order))

    reply(order, make.returned(order, {"SET-1": 1}, return_id="RT-1"))
    assert order.status == "partially_returned"
    reply(order, make.returned(order, {"SET-1": 1}, return_id="RT-2"))
    assert order.status == "returned" and order.returned_quantities == {"SET-1": 2}


def test_the_store_keeps_a_lines_components_and_an_old_line_has_none(make) -> None:
    order, _ = place(make, LineRequest(sku="SET-1", quantity=3), LineRequest(sku="LAMP-1", quantity=1))
    doc = to_fields(order)

    assert doc["lines"][0]["components"] == [
        {"sku": "LAMP-1", "quantity": 1},
        {"sku": "SHADE-R", "quantity": 2},
    ]
    assert from_doc(doc).lines == order.lines
    for line in doc["lines"]:
        del line["components"]  # a document from before bundles
    assert [li.components for li in from_doc(doc).lines] == [{}, {}]


def test_a_bundle_whose_components_would_exceed_the_quantity_bound_is_refused(make) -> None:
    catalogue = {**BUNDLES, "SET-1": {**SET, "components": [{"sku": "LAMP-1", "quantity": 1000}]}}
    request = make.request(lines=[LineRequest(sku="SET-1", quantity=MAX_QUANTITY // 10, unit_price=0)])

    errors = validate(request, catalogue, today=TODAY)

    assert "lines.0.quantity" in errors and "bound" in errors["lines.0.quantity"]


# --- the door: the catalogue's answer carries custom and components --------------------------


def catalogue_answering(*products: dict) -> HttpCatalogue:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=list(products)))
    )
    return HttpCatalogue(http, "http://inventory")


async def test_the_door_carries_custom_and_components_and_defaults_them_for_an_old_inventory() -> None:
    bundle = {"sku": "SET-1", **SET, "custom": True}
    old = {"sku": "LAMP-1", "name": "Desk lamp", "unit_price": 12000}

    found = await catalogue_answering(bundle, old).products(["SET-1", "LAMP-1"])

    assert found["SET-1"]["custom"] is True and found["SET-1"]["components"] == SET["components"]
    assert (found["LAMP-1"]["custom"], found["LAMP-1"]["components"]) == (False, [])


@pytest.mark.parametrize(
    "bad",
    [{"custom": "yes"}, {"components": {"LAMP-1": 1}}, {"components": [{"sku": "LAMP-1", "quantity": 0}]},
     {"components": [{"sku": "LAMP-1"}]}, {"components": [{"sku": 1, "quantity": 1}]}],
)  # fmt: skip
async def test_a_catalogue_entry_with_unreadable_custom_or_components_is_unavailable(bad) -> None:
    with pytest.raises(DependencyUnavailable):
        await catalogue_answering({"sku": "SET-1", **SET, **bad}).products(["SET-1"])
