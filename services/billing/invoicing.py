"""Billing use cases for invoices and credit notes (R6.1, R6.2).

A document is written first with its reply staged (unique per order or per return), then the
order's account records it (the hold becomes a receivable; a credit note lowers it and owes back
money received beyond what is now owed), then the customer's figures follow (exposure.sync),
then the reply is published - so whoever hears it sees the figures already updated. Each step is
idempotent: a crash in between is repaired by the redelivered command (and the relay publishes
the staged reply).

The invoice type is chosen by rule from the customer (``invoice_type_for``, R6.1), the VAT rate
is the setting ``VAT_RATE_BP``; the arithmetic is shared/tax.py's (domain/invoice.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pymongo.errors import DuplicateKeyError

from services.billing import exposure
from services.billing.adapters import credit_note_key, invoice_key
from services.billing.deps import Billing
from services.billing.domain import (
    CREDIT_NOTE_PREFIX,
    INVOICE_PREFIX,
    BillingError,
    Invoice,
    InvoiceLine,
    Mark,
    OrderAccount,
    RefundRecord,
    invoice_type_for,
    new_credit_note,
    new_invoice,
)
from shared.aggregates import Decision, Loaded
from shared.contracts import CreditNoteIssued, InvoiceIssued, IssueCreditNote, IssueInvoice, Message
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


async def _record(
    billing: Billing,
    order_id: str,
    decide: Callable[[OrderAccount], object],
    cause: Envelope,
    then: Callable[[OrderAccount], Awaitable[None]] | None = None,
) -> None:
    """Record a document on the order's account and move the customer's figures; a repeat (the
    account has it already) still brings the figures up to date, in case a crash came between."""

    async def after(account: OrderAccount, before: Mark | None) -> None:
        await exposure.sync(billing, account, before)
        if then is not None:
            await then(account)

    def record(account: OrderAccount) -> Decision:
        try:
            decide(account)
        except BillingError as exc:
            raise PermanentError(str(exc)) from exc
        return []

    changed = await billing.update_account(order_id, record, cause, then=after)
    if changed is not None and not changed.written:
        await after(changed.loaded.aggregate, None)


async def issue_invoice(cmd: IssueInvoice, env: Envelope, billing: Billing) -> None:
    """Invoice the order once (R6.1), deducting money received; its hold becomes a receivable."""
    lines = [InvoiceLine(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in cmd.lines]

    async def build() -> Invoice:
        loaded = await billing.accounts.load_cached(cmd.order_id)
        customer = await billing.customers.get(cmd.customer_id)
        kind = invoice_type_for(customer, billing.settings.special_invoice_taxpayer)
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
            paid=loaded.aggregate.paid_total if loaded else 0,
            at=at,
            prices_include_tax=cmd.prices_include_tax,
            invoice_type=kind,
            currency=cmd.currency,
            buyer_tax_number=customer.tax_number if customer else "",
        )

    invoice, written = await _write_once(billing, invoice_key(cmd.order_id), build, env)
    if await billing.accounts.load_cached(cmd.order_id) is None:  # invoiced without a credit check
        try:
            await billing.accounts.add(
                OrderAccount(cmd.order_id, invoice.customer_id, currency=cmd.currency, total=invoice.total)
            )
        except DuplicateKeyError:
            pass
    await _record(billing, cmd.order_id, lambda a: a.invoice(invoice.invoice_id, invoice.total), env)
    await _announce(billing, invoice, written, env)


async def issue_credit_note(cmd: IssueCreditNote, env: Envelope, billing: Billing) -> None:
    """A negative entry offsetting the order's invoice for returned goods (R6.2, R8.3); money
    received beyond what the order now costs is owed back (a refund entry, GET /refunds)."""
    lines = [InvoiceLine(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in cmd.lines]

    async def build() -> Invoice:
        issued = await billing.invoices.for_order(cmd.order_id)
        original = next((doc for doc in issued if doc.kind == "invoice"), None)
        if original is None:
            raise InvoiceNotIssuedYet(f"order {cmd.order_id} has no invoice to credit yet")
        # Documents of one order are few; two returns of one order are run one after the other
        # by the aftersales saga, so these sums are not raced in practice.
        notes = [doc for doc in issued if doc.kind == "credit_note"]
        at = utcnow()
        number = await billing.invoices.next_number(CREDIT_NOTE_PREFIX, at)
        return new_credit_note(
            number,
            original,
            return_id=cmd.return_id,
            lines=lines,
            amount=cmd.total,
            already_credited=-sum(d.total for d in notes),
            already_credited_tax=-sum(d.tax for d in notes),
            at=at,
        )

    note, written = await _write_once(billing, credit_note_key(cmd.return_id), build, env)

    async def owe_back(account: OrderAccount) -> None:
        await billing.refunds.add(records_of(account, cause=cmd.return_id))

    await _record(
        billing,
        cmd.order_id,
        lambda a: a.credit(cmd.return_id, -note.total, note.issued_at),
        env,
        then=owe_back,
    )
    await _announce(billing, note, written, env)


def records_of(
    account: OrderAccount, *, cause: str | None = None, ids: list[str] | None = None
) -> list[RefundRecord]:
    """Finance's refund records of the account's refund entries (those of ``cause`` or ``ids``)."""
    return [
        RefundRecord(
            r.refund_id,
            account.order_id,
            account.customer_id,
            r.payment_id,
            r.amount,
            account.currency,
            r.reason,
            r.at,
        )
        for r in account.refunds.values()
        if (cause is None or r.cause == cause) and (ids is None or r.refund_id in ids)
    ]
