"""Billing's handlers against in-memory fakes of their ports (tests/support/fakes_billing.py): what
a credit check, a release, an invoice or a credit note writes and sends, for a duplicate, a lost
race and a tombstone too. The same store behaviour is held to the Mongo adapters by
tests/integration/billing/test_*_store_contract.py."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from services.billing.deps import Billing
from services.billing.domain import Customer
from services.billing.handlers import put_customer, release_credit, reserve_credit
from services.billing.invoicing import issue_credit_note, issue_invoice, record_payment
from shared import contracts as c
from shared.envelope import Envelope, new_envelope, reply_id
from shared.locks import KeyedLocks
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import FakeCustomerStore, FakeInvoiceStore, fake_billing


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def billing(bus: FakeBus) -> Billing:
    return fake_billing(bus)


def customers(billing: Billing) -> FakeCustomerStore:
    assert isinstance(billing.customers, FakeCustomerStore)
    return billing.customers


def invoices(billing: Billing) -> FakeInvoiceStore:
    assert isinstance(billing.invoices, FakeInvoiceStore)
    return billing.invoices


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delivered(message: c.Message) -> Envelope:
    return new_envelope(message, producer="intake")


async def a_customer(billing: Billing, limit: int = 100_000, terms: str = "credit") -> str:
    customer_id = uid("CUST")
    await billing.customers.add(Customer(customer_id, "Shanghai Lamp Co., Ltd.", terms, limit))
    return customer_id


async def exposure(billing: Billing, customer_id: str) -> int:
    loaded = await billing.customers.load(customer_id)
    assert loaded is not None
    return loaded.aggregate.exposure


def reserve(order_id: str, customer_id: str, amount: int) -> Envelope:
    return delivered(c.ReserveCredit(order_id=order_id, customer_id=customer_id, amount=amount))


def invoice(order_id: str, customer_id: str, amount: int = 11_300) -> Envelope:
    line = c.PricedLine(sku="LAMP-RED", quantity=2, unit_price=amount // 2, amount=amount)
    return delivered(c.IssueInvoice(order_id=order_id, customer_id=customer_id, lines=[line], total=amount))


def credit_note(order_id: str, customer_id: str, amount: int = 11_300) -> Envelope:
    line = c.PricedLine(sku="LAMP-RED", quantity=2, unit_price=amount // 2, amount=amount)
    return delivered(c.IssueCreditNote(order_id=order_id, return_id=uid("RT"), customer_id=customer_id,
                                       lines=[line], total=amount))  # fmt: skip


async def run(handler, env: Envelope, billing: Billing) -> None:  # type: ignore[no-untyped-def]
    await handler(env.message(), env, billing)


async def reserved_order(billing: Billing, bus: FakeBus, amount: int = 11_300) -> tuple[str, str]:
    customer_id, order_id = await a_customer(billing), uid("SO")
    await run(reserve_credit, reserve(order_id, customer_id, amount), billing)
    bus.published.clear()
    return customer_id, order_id


async def test_credit_within_the_limit_is_held_with_one_write_and_one_reply(billing, bus):
    customer_id, order_id = await a_customer(billing), uid("SO")
    command = reserve(order_id, customer_id, 60_000)

    await run(reserve_credit, command, billing)

    assert customers(billing).writes == 2  # the customer's creation, then the hold
    [reply] = bus.published
    assert reply.type == "CreditReserved"
    assert (reply.payload["amount"], reply.payload["exposure"]) == (60_000, 60_000)
    assert reply.message_id == reply_id(command, reply.message())
    assert customers(billing).docs[customer_id]["outbox"] == {}  # cleared by id after the publish


async def test_a_duplicate_reserve_credit_writes_nothing_and_is_answered_again_under_the_same_id(
    billing, bus
):
    customer_id, order_id = await a_customer(billing), uid("SO")
    command = reserve(order_id, customer_id, 30_000)
    await run(reserve_credit, command, billing)
    writes = customers(billing).writes

    await run(reserve_credit, command, billing)  # the same delivery again
    await run(reserve_credit, reserve(order_id, customer_id, 30_000), billing)  # sent again: its own id

    assert customers(billing).writes == writes
    first, again, separate = bus.published
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert separate.payload == first.payload and separate.message_id != first.message_id
    assert await exposure(billing, customer_id) == 30_000


async def test_a_credit_check_that_loses_its_race_is_decided_again_on_the_winners_exposure(billing, bus):
    customer_id, mine, theirs = await a_customer(billing, limit=100_000), uid("SO"), uid("SO")
    replica = dataclasses.replace(billing, customer_locks=KeyedLocks())  # another process: its own turns

    async def racing_replica() -> None:  # holds 60,000 between our read and our write
        await run(reserve_credit, reserve(theirs, customer_id, 60_000), replica)

    customers(billing).before_next_save.append(racing_replica)
    await run(reserve_credit, reserve(mine, customer_id, 60_000), billing)

    assert [(e.type, e.correlation_id) for e in bus.published] == [("CreditReserved", theirs),
                                                                   ("CreditLimitExceeded", mine)]  # fmt: skip
    assert "exposure 60000 + order 60000 exceeds" in bus.published[1].payload["reason"]
    assert await exposure(billing, customer_id) == 60_000


async def test_a_release_before_the_reserve_leaves_a_tombstone_so_the_late_reserve_does_nothing(billing, bus):
    customer_id, order_id = await a_customer(billing), uid("SO")
    writes = customers(billing).writes

    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)
    await run(reserve_credit, reserve(order_id, customer_id, 30_000), billing)

    assert [(e.type, e.payload["amount"]) for e in bus.published] == [("CreditReleased", 0)]
    assert customers(billing).writes == writes
    assert await exposure(billing, customer_id) == 0


async def test_a_release_gives_back_what_was_held_once_and_a_duplicate_is_answered_again(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, amount=30_000)
    command = delivered(c.ReleaseCredit(order_id=order_id))
    writes = customers(billing).writes

    await run(release_credit, command, billing)
    await run(release_credit, command, billing)

    assert customers(billing).writes == writes + 1
    assert [(e.type, e.payload["amount"]) for e in bus.published] == [("CreditReleased", 30_000)] * 2
    assert len({e.message_id for e in bus.published}) == 1
    assert await exposure(billing, customer_id) == 0


async def test_credit_for_a_customer_billing_does_not_know_is_refused_with_a_reason_and_nothing_written(
    billing, bus
):
    await run(reserve_credit, reserve(uid("SO"), uid("GHOST"), 1), billing)

    [refusal] = bus.published
    assert refusal.type == "CreditLimitExceeded" and "unknown to billing" in refusal.payload["reason"]
    assert customers(billing).writes == 0


async def test_an_invoice_is_written_with_its_reply_then_the_hold_moves_then_the_reply_is_published(
    billing, bus
):
    customer_id, order_id = await reserved_order(billing, bus)
    seen: list[tuple[str, bool]] = []
    publish = bus.publish

    async def watching(envelope: Envelope) -> None:  # what a listener finds when the reply arrives
        entry = customers(billing).docs[customer_id]["orders"][order_id]
        seen.append((entry["state"], await invoices(billing).by_key(f"invoice:{order_id}") is not None))
        await publish(envelope)

    bus.publish = watching  # type: ignore[method-assign]
    await run(issue_invoice, invoice(order_id, customer_id), billing)

    assert bus.types() == ["InvoiceIssued"] and seen == [("invoiced", True)]
    assert (invoices(billing).writes, await exposure(billing, customer_id)) == (1, 11_300)
    [document] = invoices(billing).docs.values()
    assert document["outbox"] == {}  # cleared by id after the publish


async def test_a_racing_copy_of_an_invoice_is_answered_from_the_winners_document_under_the_same_id(
    billing, bus
):
    customer_id, order_id = await reserved_order(billing, bus)
    command = invoice(order_id, customer_id)

    async def winner() -> None:  # the other copy writes between the loser's look and its insert
        await run(issue_invoice, command, billing)

    invoices(billing).after_next_look.append(winner)
    await run(issue_invoice, command, billing)

    assert bus.types() == ["InvoiceIssued"] * 2 and len({e.message_id for e in bus.published}) == 1
    assert len(await billing.invoices.for_order(order_id)) == 1 and invoices(billing).writes == 1
    assert await exposure(billing, customer_id) == 11_300


async def test_a_racing_copy_of_a_credit_note_that_finds_nothing_left_to_credit_is_answered_not_parked(
    billing, bus
):
    customer_id, order_id = await reserved_order(billing, bus)
    await run(issue_invoice, invoice(order_id, customer_id), billing)
    command = credit_note(order_id, customer_id)

    async def winner() -> None:
        await run(issue_credit_note, command, billing)

    invoices(billing).after_next_look.append(winner)
    await run(issue_credit_note, command, billing)  # its build sees the invoice fully credited

    notes = [e for e in bus.published if e.type == "CreditNoteIssued"]
    assert len(notes) == 2 and len({e.message_id for e in notes}) == 1
    assert [d.kind for d in await billing.invoices.for_order(order_id)] == ["invoice", "credit_note"]
    assert await exposure(billing, customer_id) == 0


async def test_putting_a_customer_creates_it_once_and_a_put_that_changes_nothing_writes_nothing(billing):
    customer_id = uid("CUST")

    created = await put_customer(billing, customer_id, "Lamp Co.", "credit", 50_000)
    updated = await put_customer(billing, customer_id, "Lamp Co.", "credit", 80_000)
    writes = customers(billing).writes
    same = await put_customer(billing, customer_id, "Lamp Co.", "credit", 80_000)

    assert (created[1], updated[1], same[1]) == (True, False, False)
    assert same[0].credit_limit == 80_000 and customers(billing).writes == writes == 2


async def test_a_payment_is_applied_once_per_reference(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, amount=30_000)
    reference = uid("TT")

    await record_payment(billing, order_id, 10_000, reference)
    await record_payment(billing, order_id, 10_000, reference)

    assert bus.types() == ["PaymentReceived"]
    assert await exposure(billing, customer_id) == 20_000
