"""Billing's handlers against in-memory fakes of their ports (tests/support/fakes_billing.py): what
a credit check, a release, an invoice, a credit note, a payment and a refund write and send, for a
duplicate, a lost race and a tombstone too. The same store behaviour is held to the Mongo adapters
by tests/integration/billing/test_*_store_contract.py."""

from __future__ import annotations

import pytest

from services.billing.deps import Billing
from services.billing.domain import (
    CurrencyMismatch,
    Customer,
    OrderClosed,
    Overpayment,
    PaymentConflict,
    UnknownOrder,
)
from services.billing.handlers import put_customer, release_credit, reserve_credit
from services.billing.invoicing import issue_credit_note, issue_invoice
from services.billing.payments import pay_out, record_payment, refund_payments
from shared import contracts as c
from shared.envelope import Envelope, reply_id
from tests.support.fakes import FakeBus
from tests.unit.billing.helpers import accounts, customers, delivered, invoices, uid


async def a_customer(billing: Billing, limit: int = 100_000, terms: str = "credit", **tax: str) -> str:
    customer_id = uid("CUST")
    await billing.customers.add(Customer(customer_id, "Shanghai Lamp Co., Ltd.", terms, limit, **tax))
    return customer_id


async def figures(billing: Billing, customer_id: str) -> tuple[int, int, int]:
    customer = await billing.customers.get(customer_id)
    assert customer is not None
    return customer.held, customer.receivable, customer.exposure


async def exposure(billing: Billing, customer_id: str) -> int:
    return (await figures(billing, customer_id))[2]


def reserve(order_id: str, customer_id: str, amount: int, **kw: object) -> Envelope:
    return delivered(c.ReserveCredit(order_id=order_id, customer_id=customer_id, amount=amount, **kw))


def invoice(order_id: str, customer_id: str, amount: int = 11_300) -> Envelope:
    line = c.PricedLine(sku="LAMP-RED", quantity=2, unit_price=amount // 2, amount=amount)
    return delivered(c.IssueInvoice(order_id=order_id, customer_id=customer_id, lines=[line], total=amount))


def credit_note(order_id: str, customer_id: str, amount: int = 11_300) -> Envelope:
    line = c.PricedLine(sku="LAMP-RED", quantity=2, unit_price=amount // 2, amount=amount)
    return delivered(c.IssueCreditNote(order_id=order_id, return_id=uid("RT"), customer_id=customer_id,
                                       lines=[line], total=amount))  # fmt: skip


async def run(handler, env: Envelope, billing: Billing) -> None:  # type: ignore[no-untyped-def]
    await handler(env.message(), env, billing)


async def reserved_order(
    billing: Billing, bus: FakeBus, amount: int = 11_300, **kw: object
) -> tuple[str, str]:
    customer_id, order_id = await a_customer(billing, **kw), uid("SO")  # type: ignore[arg-type]
    await run(reserve_credit, reserve(order_id, customer_id, amount), billing)
    bus.published.clear()
    return customer_id, order_id


# --- credit (R3.1, R3.2, R7.1) ----------------------------------------------------------------


async def test_credit_within_the_limit_is_held_on_the_customer_and_answered_once(billing, bus):
    customer_id, order_id = await a_customer(billing), uid("SO")
    command = reserve(order_id, customer_id, 60_000)

    await run(reserve_credit, command, billing)

    [reply] = bus.published
    assert reply.type == "CreditReserved"
    assert (reply.payload["amount"], reply.payload["exposure"]) == (60_000, 60_000)
    assert reply.message_id == reply_id(command, reply.message())
    assert await figures(billing, customer_id) == (60_000, 0, 60_000)
    assert accounts(billing).docs[order_id]["outbox"] == {}  # cleared by id after the publish


async def test_a_duplicate_reserve_credit_writes_nothing_and_is_answered_again_under_the_same_id(
    billing, bus
):
    customer_id, order_id = await a_customer(billing), uid("SO")
    command = reserve(order_id, customer_id, 30_000)
    await run(reserve_credit, command, billing)
    writes = (customers(billing).writes, accounts(billing).writes)

    await run(reserve_credit, command, billing)  # the same delivery again
    await run(reserve_credit, reserve(order_id, customer_id, 30_000), billing)  # sent again: its own id

    assert (customers(billing).writes, accounts(billing).writes) == writes
    first, again, separate = bus.published
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert separate.payload == first.payload and separate.message_id != first.message_id
    assert await exposure(billing, customer_id) == 30_000


async def test_two_orders_that_fit_the_limit_only_one_at_a_time_cannot_both_pass(billing, bus):
    customer_id, mine, theirs = await a_customer(billing, limit=100_000), uid("SO"), uid("SO")

    async def racing_order() -> None:  # holds 60,000 between our read of the customer and our update
        await run(reserve_credit, reserve(theirs, customer_id, 60_000), billing)

    customers(billing).before_next_move.append(racing_order)
    await run(reserve_credit, reserve(mine, customer_id, 60_000), billing)

    assert [(e.type, e.correlation_id) for e in bus.published] == [("CreditReserved", theirs),
                                                                   ("CreditLimitExceeded", mine)]  # fmt: skip
    assert "exposure 60000 + order 60000 exceeds" in bus.published[1].payload["reason"]
    assert await exposure(billing, customer_id) == 60_000


async def test_a_persons_approval_forces_the_hold_over_the_limit(billing, bus):
    customer_id, order_id = await a_customer(billing, limit=10_000), uid("SO")
    await run(reserve_credit, reserve(order_id, customer_id, 50_000), billing)
    again = reserve(order_id, customer_id, 50_000)
    await run(reserve_credit, again, billing)  # still over: refused again, nothing written

    await run(reserve_credit, reserve(order_id, customer_id, 50_000, force=True), billing)

    assert bus.types() == ["CreditLimitExceeded", "CreditLimitExceeded", "CreditReserved"]
    assert await exposure(billing, customer_id) == 50_000


@pytest.mark.parametrize("term", ["prepaid"])
async def test_the_orders_prepaid_term_skips_the_check_even_for_a_credit_customer(billing, bus, term):
    customer_id, order_id = await a_customer(billing, limit=0), uid("SO")

    await run(reserve_credit, reserve(order_id, customer_id, 900_000, payment_terms=term), billing)

    [reply] = bus.published
    assert (reply.type, reply.payload["skipped"]) == ("CreditReserved", True)
    assert await exposure(billing, customer_id) == 0


async def test_an_orders_credit_term_is_checked_for_a_prepaid_customer(billing, bus):
    customer_id, order_id = await a_customer(billing, limit=0, terms="prepaid"), uid("SO")

    await run(reserve_credit, reserve(order_id, customer_id, 1_000, payment_terms="open_account"), billing)

    assert bus.types() == ["CreditLimitExceeded"]


async def test_a_release_before_the_reserve_leaves_a_tombstone_so_the_late_reserve_does_nothing(billing, bus):
    customer_id, order_id = await a_customer(billing), uid("SO")
    writes = customers(billing).writes

    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)
    await run(reserve_credit, reserve(order_id, customer_id, 30_000), billing)

    assert [(e.type, e.payload["amount"]) for e in bus.published] == [("CreditReleased", 0)]
    assert customers(billing).writes == writes
    assert await exposure(billing, customer_id) == 0


async def test_a_release_that_overtakes_a_running_check_fences_the_late_hold(billing, bus):
    customer_id, order_id = await a_customer(billing), uid("SO")

    async def release_meanwhile() -> None:  # the account is `checking`; the hold has not landed yet
        await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)

    customers(billing).before_next_move.append(release_meanwhile)
    await run(reserve_credit, reserve(order_id, customer_id, 30_000), billing)

    assert bus.types() == ["CreditReleased"]
    assert await figures(billing, customer_id) == (0, 0, 0)


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


async def test_a_release_published_after_the_customers_figures_moved(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, amount=30_000)
    seen: list[int] = []
    publish = bus.publish

    async def watching(envelope: Envelope) -> None:
        seen.append(await exposure(billing, customer_id))
        await publish(envelope)

    bus.publish = watching  # type: ignore[method-assign]
    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)

    assert seen == [0]


async def test_credit_for_a_customer_billing_does_not_know_is_refused_with_a_reason_and_nothing_written(
    billing, bus
):
    await run(reserve_credit, reserve(uid("SO"), uid("GHOST"), 1), billing)

    [refusal] = bus.published
    assert refusal.type == "CreditLimitExceeded" and "unknown to billing" in refusal.payload["reason"]
    assert customers(billing).writes == accounts(billing).writes == 0


# --- invoices (R6.1, R6.2) ---------------------------------------------------------------------


async def test_an_invoice_is_written_then_the_hold_moves_then_the_reply_is_published(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus)
    seen: list[tuple[str, tuple[int, int, int], bool]] = []
    publish = bus.publish

    async def watching(envelope: Envelope) -> None:  # what a listener finds when the reply arrives
        state = accounts(billing).docs[order_id]["state"]
        there = await invoices(billing).by_key(f"invoice:{order_id}") is not None
        seen.append((state, await figures(billing, customer_id), there))
        await publish(envelope)

    bus.publish = watching  # type: ignore[method-assign]
    await run(issue_invoice, invoice(order_id, customer_id), billing)

    assert bus.types() == ["InvoiceIssued"] and seen == [("invoiced", (0, 11_300, 11_300), True)]
    [document] = invoices(billing).docs.values()
    assert document["outbox"] == {} and document["invoice_type"] == "vat_ordinary"


async def test_a_general_taxpayer_with_a_tax_number_gets_a_vat_special_invoice(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, taxpayer="general", tax_number="9131X")

    await run(issue_invoice, invoice(order_id, customer_id), billing)

    [document] = await billing.invoices.for_order(order_id)
    assert (document.invoice_type, document.buyer_tax_number) == ("vat_special", "9131X")


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


async def test_a_return_of_goods_already_paid_for_owes_the_money_back(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus)
    await run(issue_invoice, invoice(order_id, customer_id), billing)
    await record_payment(billing, order_id, 11_300, uid("TT"))

    await run(issue_credit_note, credit_note(order_id, customer_id, amount=5_650), billing)

    [refund] = (await billing.refunds.page(order_id=order_id, status="owed", limit=10)).items
    assert (refund.amount, refund.status) == (-5_650, "owed")
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_putting_a_customer_creates_it_once_and_a_put_that_changes_nothing_writes_nothing(billing):
    customer_id = uid("CUST")

    created = await put_customer(billing, customer_id, "Lamp Co.", "credit", 50_000)
    updated = await put_customer(billing, customer_id, "Lamp Co.", "credit", 80_000, "general", "9131X")
    writes = customers(billing).writes
    same = await put_customer(billing, customer_id, "Lamp Co.", "credit", 80_000)  # tax identity kept

    assert (created[1], updated[1], same[1]) == (True, False, False)
    assert (same[0].credit_limit, same[0].taxpayer) == (80_000, "general") and customers(
        billing
    ).writes == writes == 2


# --- payments (R3.3) ---------------------------------------------------------------------------


async def test_a_payment_is_applied_once_per_reference_and_announced_once(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, amount=30_000)
    reference = uid("TT")

    first = await record_payment(billing, order_id, 10_000, reference, by="finance-1")
    again = await record_payment(billing, order_id, 10_000, reference, by="someone-else")

    [received] = bus.published
    assert (received.type, received.payload["paid_total"], received.payload["by"]) == (
        "PaymentReceived", 10_000, "finance-1",
    )  # fmt: skip
    assert (first[2], again[2], again[0]) == (True, False, first[0])
    assert await figures(billing, customer_id) == (20_000, 0, 20_000)


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [(30_001, None, Overpayment), (100, "USD", CurrencyMismatch)],
)
async def test_a_payment_the_order_cannot_take_is_refused_and_burns_no_reference(
    billing, bus, amount, currency, error
):
    _, order_id = await reserved_order(billing, bus, amount=30_000)
    reference = uid("TT")

    with pytest.raises(error):
        await record_payment(billing, order_id, amount, reference, currency)
    await record_payment(billing, order_id, 100, reference)  # the reference is still free

    assert bus.types() == ["PaymentReceived"]


async def test_a_reference_used_for_another_order_or_amount_is_a_conflict(billing, bus):
    _, order_id = await reserved_order(billing, bus, amount=30_000)
    _, other = await reserved_order(billing, bus, amount=30_000)
    reference = uid("TT")
    await record_payment(billing, order_id, 1_000, reference)

    with pytest.raises(PaymentConflict):
        await record_payment(billing, order_id, 2_000, reference)
    with pytest.raises(PaymentConflict):
        await record_payment(billing, other, 1_000, reference)


async def test_money_for_an_order_billing_never_saw_or_of_another_customer_is_unknown(billing, bus):
    _, order_id = await reserved_order(billing, bus)

    with pytest.raises(UnknownOrder):
        await record_payment(billing, uid("SO"), 1, uid("TT"))
    with pytest.raises(UnknownOrder):
        await record_payment(billing, order_id, 1, uid("TT"), acts_for=lambda _c: False)


# --- refunds (R7.1, R6.2) ----------------------------------------------------------------------


async def test_refund_payments_owes_back_each_payment_closes_the_order_and_repeats_its_answer(billing, bus):
    customer_id, order_id = await reserved_order(billing, bus, amount=30_000)
    await record_payment(billing, order_id, 9_000, uid("DEP"))
    bus.published.clear()
    command = delivered(c.RefundPayments(order_id=order_id, reason="cancelled by the customer"))

    await run(refund_payments, command, billing)
    await run(refund_payments, command, billing)

    first, again = bus.published
    assert first.type == "PaymentsRefunded" and (first.message_id, first.payload) == (
        again.message_id,
        again.payload,
    )
    assert first.payload["amount"] == 9_000 and len(first.payload["refund_ids"]) == 1
    [record] = await billing.refunds.for_order(order_id)
    assert (record.refund_id, record.amount, record.reason) == (
        first.payload["refund_ids"][0], -9_000, "cancelled by the customer",
    )  # fmt: skip
    with pytest.raises(OrderClosed):
        await record_payment(billing, order_id, 1_000, uid("TT"))
    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_refund_payments_for_an_order_with_nothing_paid_answers_nothing_refunded(billing, bus):
    await run(refund_payments, delivered(c.RefundPayments(order_id=uid("SO"))), billing)

    [reply] = bus.published
    assert (reply.type, reply.payload["amount"], reply.payload["refund_ids"]) == ("PaymentsRefunded", 0, [])


async def test_a_refund_is_paid_out_once_with_who_and_when(billing, bus):
    _, order_id = await reserved_order(billing, bus, amount=30_000)
    await record_payment(billing, order_id, 9_000, uid("DEP"))
    await run(refund_payments, delivered(c.RefundPayments(order_id=order_id)), billing)
    [refund] = await billing.refunds.for_order(order_id)

    paid = await pay_out(billing, refund.refund_id, "finance-1")
    again = await pay_out(billing, refund.refund_id, "finance-2")

    assert (paid.status, paid.paid_out_by) == ("paid_out", "finance-1") and again == paid
    assert (await billing.refunds.page(order_id=None, status="owed", limit=10)).items == []
