"""The whole order saga on the bus's in-memory path (tests/support/fakes.py InMemoryBus): intake,
billing, inventory and logistics with their real handlers and CONSUMES tables on in-memory fakes
of their stores, in milliseconds; the integration and e2e tiers run the same on the real broker."""

from __future__ import annotations

import pytest

from services.billing import consumers as billing_consumers
from services.billing.domain import Customer
from services.intake import consumers as intake_consumers
from services.intake.deps import Intake
from services.intake.settings import Settings as IntakeSettings
from services.inventory import consumers as inventory_consumers
from services.inventory.domain import Product
from services.logistics import consumers as logistics_consumers
from services.logistics.carrier_reports import report_event
from services.logistics.deps import Logistics
from services.logistics.settings import Settings as LogisticsSettings
from shared.aggregates import Loaded
from shared.envelope import new_envelope
from tests.support.fakes import FakeOrderStore, InMemoryBus
from tests.support.fakes_billing import fake_billing
from tests.support.fakes_inventory import fake_inventory
from tests.support.fakes_logistics import FakeShipmentStore
from tests.unit.intake.builders import Builders


async def system(copies: int):  # type: ignore[no-untyped-def]
    bus = InMemoryBus(copies)
    intake = Intake(IntakeSettings(), FakeOrderStore(bus), None, None, None, None)  # type: ignore[arg-type]
    billing, inventory = fake_billing(bus), fake_inventory(bus)
    logistics = Logistics(LogisticsSettings(), FakeShipmentStore(bus))
    intake_consumers.subscribe(bus, intake)  # type: ignore[arg-type]
    billing_consumers.subscribe(bus, billing)  # type: ignore[arg-type]
    inventory_consumers.subscribe(bus, inventory)  # type: ignore[arg-type]
    logistics_consumers.subscribe(bus, logistics)  # type: ignore[arg-type]
    await billing.customers.add(Customer("C-ACME", "Shanghai ACME Trading Co., Ltd.", "credit", 10_000_000))
    for sku, details in Builders.catalogue.items():
        product = Product(
            sku=sku,
            name=str(details["name"]),
            unit_price=int(details["unit_price"]),
            sourcing=details["sourcing"],
            lead_time_days=int(details["lead_time_days"]),
        )
        await inventory.products.put(product)
        await inventory.stock.count(sku, "main", 100)
    return bus, intake, billing, inventory, logistics


async def place(intake: Intake):  # type: ignore[no-untyped-def]
    order, commands = Builders().place()
    envelopes = [new_envelope(c, producer="intake") for c in commands]
    doc = await intake.orders.insert(order, envelopes, {})
    await intake.orders.flush(Loaded(order, doc))
    return order


@pytest.mark.parametrize("copies", [1, 2])
async def test_an_order_goes_from_credit_to_completed_in_memory_even_with_every_delivery_doubled(copies):
    bus, intake, billing, inventory, logistics = await system(copies)
    order = await place(intake)

    await bus.drain()
    shipment = (await logistics.shipments.load(order.order_id)).aggregate
    for event in ("picked_up", "delivered"):
        await report_event(logistics, shipment.shipment_id, event, None, "")
    await bus.drain()

    doc = await intake.orders.get(order.order_id)
    assert doc is not None and doc["status"] == "completed"
    assert len(doc["invoice_ids"]) == 1 and len(await billing.invoices.for_order(order.order_id)) == 1
    stock = await inventory.stock.get("LAMP-1")
    assert (stock["on_hand"], stock["reserved"]) == (98, 0)  # two lamps left, nothing still held
    # The happy path's 12 deliveries (issue 10), each delivered `copies` times; a duplicate is answered
    # under the same id, and each answer is delivered `copies` times again: bounded, never a storm.
    assert len(bus.delivered) == 12 if copies == 1 else len(bus.delivered) <= 12 * copies**2
