"""Invoices and credit notes (R6.1, R6.2): immutable documents; a reversal is a new negative one.

Rounding (shared/tax.py, the one rule): VAT is computed once per document on its taxable total,
half away from zero to the fen, and the lines show their share of it by largest remainder, so the
shares add up to the document's tax. Prices are gross (tax included) or net (R1.2): an invoice of
net prices adds the tax to the net total, and its ``total`` is the gross the customer pays; of
gross prices it splits the tax out of the total. A credit note is given as the gross amount given
back; the one that credits the rest of its invoice takes the rest of the invoice's tax, so an
invoice credited in full nets to exactly 0 total and 0 tax.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from shared.tax import allocate, tax_in_gross, tax_on_net

from .customer import VAT_ORDINARY
from .errors import CreditExceedsInvoice, InvoiceMismatch


def included_tax(total: int, rate_bp: int) -> int:
    """VAT contained in a tax-inclusive amount (shared.tax.tax_in_gross, kept for its callers)."""
    return tax_in_gross(total, rate_bp)


@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    quantity: int
    unit_price: int  # in the document's basis: net or gross (``prices_include_tax``)
    amount: int
    tax: int = 0  # the line's share of the document's tax


@dataclass(frozen=True)
class Invoice:
    """An invoice (``kind="invoice"``) or a credit note (negative ``total``, ``net`` and ``tax``)."""

    invoice_id: str
    kind: Literal["invoice", "credit_note"]
    order_id: str
    customer_id: str
    lines: tuple[InvoiceLine, ...]
    total: int  # gross: what the customer pays (or gets back)
    tax: int
    tax_rate_bp: int
    issued_at: datetime
    discount: int = 0
    freight: int = 0
    deducted: int = 0  # deposits and payments already received, shown as deducted (R6.1)
    amount_due: int = 0
    original_invoice_id: str | None = None  # the invoice a credit note offsets (R6.2)
    return_id: str | None = None
    invoice_type: str = VAT_ORDINARY  # vat_special | vat_ordinary, by rule from the customer (R6.1)
    prices_include_tax: bool = True
    net: int = 0
    currency: str = "CNY"
    buyer_tax_number: str = ""


def _with_tax_shares(lines: tuple[InvoiceLine, ...], tax: int) -> tuple[InvoiceLine, ...]:
    shares = allocate(tax, [abs(line.amount) for line in lines])
    return tuple(replace(line, tax=share) for line, share in zip(lines, shares, strict=True))


def new_invoice(
    invoice_id: str,
    *,
    order_id: str,
    customer_id: str,
    lines: Iterable[InvoiceLine],
    discount: int,
    freight: int,
    total: int,
    tax_rate_bp: int,
    paid: int,
    at: datetime,
    prices_include_tax: bool = True,
    invoice_type: str = VAT_ORDINARY,
    currency: str = "CNY",
    buyer_tax_number: str = "",
) -> Invoice:
    """Invoice a shipped order; totals must agree with the lines (R1.5) and payments are deducted."""
    lines = tuple(lines)
    for line in lines:
        if line.quantity * line.unit_price != line.amount:
            raise InvoiceMismatch(f"line {line.sku}: {line.quantity} x {line.unit_price} != {line.amount}")
    base = sum(line.amount for line in lines) - discount + freight
    if prices_include_tax:
        if base != total:
            raise InvoiceMismatch(f"lines - discount + freight = {base}, not the total {total}")
        tax = tax_in_gross(total, tax_rate_bp)
        net = total - tax
    else:
        net, tax = base, tax_on_net(base, tax_rate_bp)
        if net + tax != total:
            raise InvoiceMismatch(
                f"lines - discount + freight = {net} net, with {tax} VAT {net + tax}, not the total {total}"
            )
    deducted = min(max(paid, 0), total)
    return Invoice(
        invoice_id,
        "invoice",
        order_id,
        customer_id,
        _with_tax_shares(lines, tax),
        total,
        tax,
        tax_rate_bp,
        at,
        discount,
        freight,
        deducted,
        total - deducted,
        invoice_type=invoice_type,
        prices_include_tax=prices_include_tax,
        net=net,
        currency=currency,
        buyer_tax_number=buyer_tax_number if invoice_type != VAT_ORDINARY else "",
    )


def new_credit_note(
    credit_note_id: str,
    original: Invoice,
    *,
    return_id: str,
    lines: Iterable[InvoiceLine],
    amount: int,
    already_credited: int,
    at: datetime,
    already_credited_tax: int | None = None,
) -> Invoice:
    """A negative entry offsetting ``amount`` (gross) of ``original``; never more than is left of it
    (R6.2). ``already_credited_tax`` (positive) lets the last note take the rest of the tax."""
    if amount < 0:
        raise CreditExceedsInvoice("a credit note amount is given as a positive number")
    if already_credited + amount > original.total:
        raise CreditExceedsInvoice(
            f"credit {amount} + {already_credited} already credited exceeds invoice "
            f"{original.invoice_id} total {original.total}"
        )
    # The original's rate applies: the credit note reverses that invoice's tax, not today's rate.
    rest = already_credited + amount == original.total and already_credited_tax is not None
    tax = original.tax - (already_credited_tax or 0) if rest else tax_in_gross(amount, original.tax_rate_bp)
    negative = tuple(InvoiceLine(ln.sku, ln.quantity, ln.unit_price, -ln.amount) for ln in lines)
    return Invoice(
        credit_note_id,
        "credit_note",
        original.order_id,
        original.customer_id,
        _with_tax_shares(negative, -tax),
        -amount,
        -tax,
        original.tax_rate_bp,
        at,
        amount_due=-amount,
        original_invoice_id=original.invoice_id,
        return_id=return_id,
        invoice_type=original.invoice_type,
        prices_include_tax=original.prices_include_tax,
        net=-(amount - tax),
        currency=original.currency,
        buyer_tax_number=original.buyer_tax_number,
    )
