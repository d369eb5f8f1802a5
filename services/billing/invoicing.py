"""Billing use cases for invoices, credit notes (R6.1, R6.2) and payments received (R3.3).

A document is written first with its reply staged (unique per order or per return), then
the customer's hold is moved, then the reply is published - so whoever hears it sees the
customer's figures already updated. The customer step is idempotent: a crash between the
writes is repaired by the redelivered command (and the relay publishes the staged reply).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pymongo.errors import DuplicateKeyError

from services.billing.adapters import credit_note_key, invoice_key
from services.billing.deps import Billing
from services.billing.domain import (
    CREDIT_NOTE_PREFIX,
    INVOICE_PREFIX,
    BillingError,
    Customer,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentConflict,
    UnknownOrder,
    new_credit_note,
    new_invoice,
)
from shared.aggregates import Decision, Loaded
from shared.contracts import (
    CreditNoteIssued,
    InvoiceIssued,
    IssueCreditNote,
    IssueInvoice,
    Message,
    PaymentReceived,
)
from shared.envelope import Envelope, utcnow
from shared.errors import PermanentError

log = logging.getLogger(__name__)


class InvoiceNotIssuedYet(Exception):
    """A credit note needs its invoice; the bus retries until the invoice exists, then parks."""


def reply_for(document: Invoice) -> Message:
    """The event that announces an invoice or credit note (also re-sent for duplicates)."""
    if document.kind == "invoice":
        return InvoiceIssued(
            order_id=document.order_id, invoice_id=document.invoice_id, total=document.total, tax=document.tax
        )
    return CreditNoteIssued(
        order_id=document.order_id,
        return_id=document.return_id or "",
        credit_note_id=document.invoice_id,
        total=document.total,
        tax=document.tax,
    )


async def _write_once(
    billing: Billing, key: str, build: Callable[[], Awaitable[Invoice]], cause: Envelope
) -> tuple[Invoice, Loaded[Invoice] | None]:
    """Insert the document ``build`` makes, with its reply staged, unless ``key`` exists.

    Returns the document and what was written, or None for a duplicate: the existing document
    is never rewritten, its reply is published again by ``_announce`` (issue 10).
    """
    existing = await billing.invoices.by_key(key)
    if existing is not None:
        return existing, None
    try:
        document = await build()
    except BillingError as exc:
        # A racing copy may have written the document meanwhile: its figures then refuse ours
        # (a credit note beyond what is left to credit). That copy is a duplicate, not poison.
        if (existing := await billing.invoices.by_key(key)) is None:
            raise PermanentError(str(exc)) from exc
        return existing, None
    try:
        return document, await billing.invoices.add(document, billing.answers(cause)([reply_for(document)]))
    except DuplicateKeyError:  # a racing replica wrote it first
        existing = await billing.invoices.by_key(key)
        assert existing is not None
        return existing, None


async def _announce(
    billing: Billing, document: Invoice, written: Loaded[Invoice] | None, cause: Envelope
) -> None:
    """Publish the document's reply: staged with a new document, else again under the same id."""
    if written is not None:
        await billing.invoices.flush(written)
    else:
        await billing.invoices.publish(billing.answers(cause)([reply_for(document)]))


async def issue_invoice(cmd: IssueInvoice, env: Envelope, billing: Billing) -> None:
    """Invoice the order once (R6.1), deducting money received; its hold becomes a receivable."""
    lines = [InvoiceLine(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in cmd.lines]

    async def build() -> Invoice:
        loaded = await billing.customers.load(cmd.customer_id)
        paid = loaded.aggregate.paid_for(cmd.order_id) if loaded else 0
        at = utcnow()
        number = await billing.invoices.next_number(INVOICE_PREFIX, at)
        return new_invoice(
            number,
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            lines=lines,
            discount=cmd.discount,
            freight=cmd.freight,
            total=cmd.total,
            tax_rate_bp=billing.settings.vat_rate_bp,
            paid=paid,
            at=at,
        )

    invoice, written = await _write_once(billing, invoice_key(cmd.order_id), build, env)

    def move_hold(customer: Customer) -> Decision:
        try:
            customer.invoice(cmd.order_id, invoice.invoice_id, invoice.total)  # False: moved before
        except BillingError as exc:
            raise PermanentError(str(exc)) from exc
        return []

    if await billing.update_customer(invoice.customer_id, move_hold, env) is None:
        log.warning("invoiced a customer billing does not know", extra={"customer_id": invoice.customer_id})
    await _announce(billing, invoice, written, env)


async def issue_credit_note(cmd: IssueCreditNote, env: Envelope, billing: Billing) -> None:
    """A negative entry offsetting the order's invoice for returned goods (R6.2, R8.3)."""
    lines = [InvoiceLine(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in cmd.lines]

    async def build() -> Invoice:
        issued = await billing.invoices.for_order(cmd.order_id)
        original = next((doc for doc in issued if doc.kind == "invoice"), None)
        if original is None:
            raise InvoiceNotIssuedYet(f"order {cmd.order_id} has no invoice to credit yet")
        # Documents of one order are few; two returns of one order are run one after the other
        # by the aftersales saga, so this sum is not raced in practice.
        credited = -sum(doc.total for doc in issued if doc.kind == "credit_note")
        at = utcnow()
        number = await billing.invoices.next_number(CREDIT_NOTE_PREFIX, at)
        return new_credit_note(
            number,
            original,
            return_id=cmd.return_id,
            lines=lines,
            amount=cmd.total,
            already_credited=credited,
            at=at,
        )

    note, written = await _write_once(billing, credit_note_key(cmd.return_id), build, env)

    def reduce_exposure(customer: Customer) -> Decision:
        customer.credit(cmd.order_id, cmd.return_id, -note.total)  # False: applied before
        return []

    await billing.update_customer(note.customer_id, reduce_exposure, env)
    await _announce(billing, note, written, env)


async def record_payment(
    billing: Billing, order_id: str, amount: int, reference: str,
    acts_for: Callable[[str], bool] = lambda _customer_id: True,
) -> tuple[Payment, str]:
    """Record money received for an order once per reference (R3.3); returns it with the customer id.
    An order of a customer the caller does not act for is unknown to it (``acts_for``, issue 7)."""
    link = await billing.links.get(order_id)
    known = link and link["customer_id"] and acts_for(link["customer_id"])
    loaded = await billing.customers.load(link["customer_id"]) if known and link else None
    if loaded is None or order_id not in loaded.aggregate.orders:
        raise UnknownOrder(f"billing knows no order {order_id}; it appears once its credit check ran")
    customer_id = loaded.aggregate.customer_id
    payment = await billing.payments.record(Payment(reference, order_id, amount, utcnow()), customer_id)
    if (payment.order_id, payment.amount) != (order_id, amount):
        raise PaymentConflict(f"reference {reference} was recorded for {payment.order_id}, {payment.amount}")

    def apply(customer: Customer) -> Decision:
        if not customer.record_payment(payment):
            return []  # a repeated reference: recorded before
        return [PaymentReceived(order_id=order_id, payment_id=reference, amount=amount)]

    await billing.update_customer(customer_id, apply, None)
    return payment, customer_id
