"""One behaviour, two adapters: invoices and credit notes (written once per business key, R6.2) and
payments (once per reference, R3.3), as the Mongo adapters on the real store server and the
in-memory fakes the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.billing.adapters import MongoInvoiceStore, MongoPaymentStore, invoice_key
from services.billing.domain import INVOICE_PREFIX, InvoiceLine, Payment, new_invoice
from services.billing.settings import Settings
from shared import contracts as c
from shared.envelope import new_envelope
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import FakeInvoiceStore, FakePaymentStore

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["mongo", "fake"])
async def stores(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeInvoiceStore(bus), FakePaymentStore(), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_billing"]
    invoices = MongoInvoiceStore(db["invoices"], db["counters"], Outbox(bus, Settings()))  # type: ignore[arg-type]
    await invoices.create_indexes()
    yield invoices, MongoPaymentStore(db["payments"]), bus
    await client.close()


async def an_invoice(invoices: Any, order_id: str = "", customer_id: str = "CUST-A") -> Any:
    number = await invoices.next_number(INVOICE_PREFIX, AT)
    line = InvoiceLine("LAMP-RED", 2, 5_650, 11_300)
    order_id = order_id or f"SO-{uuid.uuid4().hex[:8]}"
    return new_invoice(number, order_id=order_id, customer_id=customer_id, lines=[line], discount=0,
                       freight=0, total=11_300, tax_rate_bp=1300, paid=0, at=AT)  # fmt: skip


async def test_an_invoice_reads_back_by_its_key_its_number_its_order_and_its_customer(stores):
    invoices, _, _ = stores
    invoice = await an_invoice(invoices, customer_id=f"CUST-{uuid.uuid4().hex[:8]}")

    await invoices.add(invoice, [])

    assert await invoices.by_key(invoice_key(invoice.order_id)) == invoice
    assert await invoices.get(invoice.invoice_id) == invoice
    assert await invoices.for_order(invoice.order_id) == [invoice]
    assert await invoices.for_customer(invoice.customer_id) == [invoice]
    assert await invoices.by_key(invoice_key("SO-nobody")) is None


async def test_a_second_document_for_the_same_order_is_a_duplicate_key(stores):
    invoices, _, _ = stores
    first = await an_invoice(invoices)
    await invoices.add(first, [])
    twin = await an_invoice(invoices, order_id=first.order_id)  # a racing copy: its own number

    with pytest.raises(DuplicateKeyError):
        await invoices.add(twin, [])

    assert await invoices.for_order(first.order_id) == [first]


async def test_document_numbers_are_distinct_and_monthly(stores):
    invoices, _, _ = stores

    numbers = [await invoices.next_number(INVOICE_PREFIX, AT) for _ in range(3)]

    assert len(set(numbers)) == 3 and all(n.startswith("INV202611") for n in numbers)


async def test_the_reply_staged_with_a_document_is_flushed_once(stores):
    invoices, _, bus = stores
    invoice = await an_invoice(invoices)
    issued = c.InvoiceIssued(order_id=invoice.order_id, invoice_id=invoice.invoice_id, total=invoice.total,
                             tax=invoice.tax)  # fmt: skip
    reply = new_envelope(issued, producer="billing")

    await invoices.flush(await invoices.add(invoice, [reply]))

    assert bus.published == [reply]


async def test_a_payment_is_recorded_once_per_reference(stores):
    _, payments, _ = stores
    order_id, reference = f"SO-{uuid.uuid4().hex[:8]}", f"TT-{uuid.uuid4().hex[:8]}"

    first = await payments.record(Payment(reference, order_id, 3_000, AT), "CUST-A")
    again = await payments.record(Payment(reference, "SO-other", 9_000, AT), "CUST-A")

    assert again == first and await payments.for_order(order_id) == [first]
