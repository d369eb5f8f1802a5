"""Racing copies of one billing command, on the real store: the copy that loses is answered like a
duplicate, never parked (issue 10: 8 copies of IssueInvoice were parked as poison after the invoice
had been issued). The race is made certain: the losing copy's first look for the document is held
back until the winning copy has written it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import (
    MongoCustomerStore,
    MongoInvoiceStore,
    MongoOrderAccountStore,
    MongoPaymentStore,
    MongoRefundStore,
)
from services.billing.domain import Customer, Invoice
from services.billing.handlers import Billing
from services.billing.invoicing import issue_credit_note, issue_invoice
from services.billing.settings import Settings
from shared.contracts import IssueCreditNote, PricedLine
from shared.envelope import Envelope, new_envelope
from shared.outbox import Outbox
from tests.integration.billing.builders import an_invoice_for, uid

pytestmark = pytest.mark.integration


class RecordingBus:
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope)


class LateFirstLook(MongoInvoiceStore):
    """The losing copy's ``by_key`` answers "not there yet" once, as if it had looked just before
    the winner's insert; every later look sees the store as it is."""

    def __init__(self, real: MongoInvoiceStore) -> None:
        super().__init__(real.collection, real.counters, real.outbox)
        self.blind_once = False

    async def by_key(self, key: str) -> Invoice | None:
        if self.blind_once:
            self.blind_once = False
            return None
        return await super().by_key(key)


@pytest.fixture
async def billing(mongo_url: str) -> AsyncIterator[tuple[Billing, RecordingBus, LateFirstLook]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"b{uuid.uuid4().hex[:8]}_billing"]
    settings = Settings()
    bus = RecordingBus()
    outbox = Outbox(bus, settings)  # type: ignore[arg-type]
    invoices = LateFirstLook(MongoInvoiceStore(db["invoices"], db["counters"], outbox))
    await invoices.create_indexes()
    deps = Billing(
        settings=settings,
        customers=MongoCustomerStore(db["customers"], outbox),
        accounts=MongoOrderAccountStore(db["order_accounts"], outbox),
        invoices=invoices,
        payments=MongoPaymentStore(db["payments"]),
        refunds=MongoRefundStore(db["refunds"]),
    )
    yield deps, bus, invoices
    await client.close()


def delivery(message: Any) -> Envelope:
    return new_envelope(message, producer="intake")


async def invoiced_order(deps: Billing) -> tuple[str, str, Envelope]:
    customer_id, order_id = uid("CUST"), uid("SO")
    await deps.customers.add(Customer(customer_id, "Shanghai Lamp Co., Ltd.", "credit", 1_000_000))
    invoice = delivery(an_invoice_for(order_id, customer_id))
    await issue_invoice(invoice.message(), invoice, deps)  # type: ignore[arg-type]
    return customer_id, order_id, invoice


async def test_the_losing_copy_of_a_credit_note_is_answered_under_the_same_id_not_parked(billing):
    deps, bus, invoices = billing
    customer_id, order_id, _ = await invoiced_order(deps)
    line = PricedLine(sku="LAMP-RED", quantity=2, unit_price=5_650, amount=11_300)
    command = IssueCreditNote(
        order_id=order_id, return_id=uid("RT"), customer_id=customer_id, lines=[line], total=11_300
    )
    copy = delivery(command)

    await issue_credit_note(command, copy, deps)  # the winner
    invoices.blind_once = True
    await issue_credit_note(command, copy, deps)  # the loser: its build sees nothing left to credit

    notes = [e for e in bus.published if e.type == "CreditNoteIssued"]
    assert len(notes) == 2 and len({e.message_id for e in notes}) == 1
    documents = await invoices.for_order(order_id)
    assert [d.kind for d in documents] == ["invoice", "credit_note"]
    customer = await deps.customers.get(customer_id)
    assert customer is not None and customer.exposure == 0


async def test_the_losing_copy_of_an_invoice_is_answered_under_the_same_id_not_parked(billing):
    deps, bus, invoices = billing
    _, order_id, invoice = await invoiced_order(deps)

    invoices.blind_once = True
    await issue_invoice(invoice.message(), invoice, deps)  # type: ignore[arg-type]

    issued = [e for e in bus.published if e.type == "InvoiceIssued"]
    assert len(issued) == 2 and len({e.message_id for e in issued}) == 1
    assert [d.kind for d in await invoices.for_order(order_id)] == ["invoice"]
