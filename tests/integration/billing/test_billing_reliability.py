"""Billing under concurrency and crashes: the limit holds, and a half-done invoice is completed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import MongoInvoiceStore
from services.billing.domain import InvoiceLine, new_invoice
from services.billing.settings import Settings
from shared.contracts import ReserveCredit
from shared.envelope import utcnow
from shared.outbox import Outbox
from tests.integration.billing.builders import a_customer, an_invoice_for, credit_of, uid
from tests.support.fakes import FakeBus

pytestmark = pytest.mark.integration


@pytest.fixture
async def invoices(stack, mongo_url: str) -> AsyncIterator[MongoInvoiceStore]:  # type: ignore[no-untyped-def]
    client: AsyncMongoClient[dict] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"{stack.prefix}_billing"]
    outbox = Outbox(FakeBus(), Settings())  # type: ignore[arg-type]  # it only numbers and inserts
    yield MongoInvoiceStore(db["invoices"], db["counters"], outbox)
    await client.close()


async def test_concurrent_orders_of_one_customer_never_push_exposure_over_the_limit(http, probe):
    customer_id = await a_customer(http, limit=100_000)
    orders = [uid("SO") for _ in range(10)]

    await asyncio.gather(
        *(probe.publish(ReserveCredit(order_id=o, customer_id=customer_id, amount=20_000)) for o in orders)
    )

    for order_id in orders:
        for _ in range(150):
            if probe.matching("CreditReserved", order_id) or probe.matching("CreditLimitExceeded", order_id):
                break
            await asyncio.sleep(0.1)
    reserved = [o for o in orders if probe.matching("CreditReserved", o)]
    refused = [o for o in orders if probe.matching("CreditLimitExceeded", o)]
    assert (len(reserved), len(refused)) == (5, 5)
    assert (await credit_of(http, customer_id))["exposure"] == 100_000


async def test_a_crash_between_the_invoice_write_and_the_hold_move_is_repaired_by_the_redelivery(
    http, probe, invoices
):
    customer_id, order_id = await a_customer(http), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=11_300))
    await probe.wait_for("CreditReserved", order_id)
    command = an_invoice_for(order_id, customer_id)
    # What a process killed right after its first write leaves behind: the invoice, hold not moved.
    number = await invoices.next_number("INV", utcnow())
    lines = [InvoiceLine(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in command.lines]
    half_done = new_invoice(
        number,
        order_id=order_id,
        customer_id=customer_id,
        lines=lines,
        discount=0,
        freight=0,
        total=command.total,
        tax_rate_bp=1300,
        paid=0,
        at=utcnow(),
    )
    await invoices.add(half_done, [])

    await probe.publish(command)  # the broker redelivers the unacknowledged command

    assert (await probe.wait_for("InvoiceIssued", order_id))[0].payload["invoice_id"] == number
    assert len((await http.get("/invoices", params={"order_id": order_id})).json()) == 1
    [entry] = (await credit_of(http, customer_id))["orders"]
    assert (entry["held"], entry["receivable"], entry["invoice_id"]) == (0, 11_300, number)
