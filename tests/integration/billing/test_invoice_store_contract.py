"""One behaviour, two adapters: invoices and credit notes (written once per business key, R6.2) and
payments (once per reference, R3.3), as the Mongo adapters on the real store server and the
in-memory fakes the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
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
from tests.support.paging import instants, walk

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


async def test_a_payment_reference_is_claimed_once_over_every_order(stores):
    _, payments, _ = stores
    order_id, reference = f"SO-{uuid.uuid4().hex[:8]}", f"TT-{uuid.uuid4().hex[:8]}"

    first = await payments.claim(Payment(reference, order_id, 3_000, AT, "CNY", "finance-1"), "CUST-A")
    again = await payments.claim(Payment(reference, "SO-other", 9_000, AT), "CUST-A")

    assert again == first and await payments.for_order(order_id) == [first]


async def test_a_refused_payments_reference_is_free_again(stores):
    _, payments, _ = stores
    order_id, reference = f"SO-{uuid.uuid4().hex[:8]}", f"TT-{uuid.uuid4().hex[:8]}"
    refused = await payments.claim(Payment(reference, order_id, 3_000, AT), "CUST-A")

    await payments.refuse(refused)
    second = await payments.claim(Payment(reference, order_id, 2_000, AT), "CUST-A")

    assert second.amount == 2_000 and await payments.for_order(order_id) == [second]


# --- pages (issue 7: every list pages with a cursor) ----------------------------------------------


async def a_customers_invoices(invoices: Any, customer_id: str) -> list[Any]:
    """Eight invoices of one customer, issued at the instants of tests.support.paging."""
    added = [replace(await an_invoice(invoices, customer_id=customer_id), issued_at=at)
             for at in instants(AT)]  # fmt: skip
    for invoice in reversed(added):
        await invoices.add(invoice, [])
    return added


def oldest_first(documents: list[Any]) -> list[str]:
    return [d.invoice_id for d in sorted(documents, key=lambda d: (d.issued_at, d.invoice_id))]


def flat(pages: list[list[Any]]) -> list[str]:
    return [d.invoice_id for page in pages for d in page]


async def test_a_customers_invoices_page_three_at_a_time_oldest_first_each_once(stores):
    invoices, _, _ = stores
    customer_id = f"CUST-{uuid.uuid4().hex[:8]}"
    added = await a_customers_invoices(invoices, customer_id)
    await invoices.add(await an_invoice(invoices, customer_id="CUST-OTHER"), [])

    pages = await walk(lambda after: invoices.page(customer_id=customer_id, limit=3, after=after))

    assert [len(p) for p in pages] == [3, 3, 2]
    assert flat(pages) == oldest_first(added)


async def test_an_invoice_issued_between_pages_comes_last_and_none_older_repeats_or_goes_missing(stores):
    invoices, _, _ = stores
    customer_id = f"CUST-{uuid.uuid4().hex[:8]}"
    added = await a_customers_invoices(invoices, customer_id)
    # Issued between the pages, in the same second as the last page's items: after all of them.
    newer = replace(await an_invoice(invoices, customer_id=customer_id), issued_at=instants(AT)[-1])
    newer = replace(newer, invoice_id=f"{newer.invoice_id}Z")

    async def issue(after_page: int) -> None:
        if after_page == 1:
            await invoices.add(newer, [])

    pages = await walk(lambda after: invoices.page(customer_id=customer_id, limit=3, after=after), issue)

    assert flat(pages) == [*oldest_first(added), newer.invoice_id]


async def test_an_orders_invoice_and_credit_notes_page_oldest_first(stores):
    invoices, _, _ = stores
    invoice = await an_invoice(invoices)
    notes = [replace(invoice, invoice_id=f"CN-{i}-{uuid.uuid4().hex[:6]}", kind="credit_note",
                     return_id=f"RT-{uuid.uuid4().hex[:8]}", issued_at=at)
             for i, at in enumerate(instants(AT)[1:4])]  # fmt: skip
    for document in (*notes, invoice):
        await invoices.add(document, [])

    pages = await walk(lambda after: invoices.page(order_id=invoice.order_id, limit=2, after=after))

    assert flat(pages) == oldest_first([invoice, *notes]) and [len(p) for p in pages] == [2, 2]


async def test_an_erps_pages_hold_only_its_customers_documents(stores):
    invoices, _, _ = stores
    customer_id = f"CUST-{uuid.uuid4().hex[:8]}"
    added = await a_customers_invoices(invoices, customer_id)
    await invoices.add(await an_invoice(invoices, customer_id="OTHER-1"), [])  # the other key's own

    mine = await walk(lambda after: invoices.page(customer_id=customer_id, limit=3, after=after,
                                                  customers=("CUST-*",)))  # fmt: skip
    theirs = await invoices.page(customer_id=customer_id, limit=3, customers=("OTHER-*", "VIP-1"))
    of_order = await invoices.page(order_id=added[0].order_id, limit=3, customers=(customer_id,))

    assert flat(mine) == oldest_first(added)
    assert (theirs.items, theirs.next) == ([], None)  # nothing of another customer, not even a cursor
    assert of_order.items == [added[0]]
    assert (await invoices.page(customer_id=customer_id, limit=3, customers=())).items == []
