"""Invoices and credit notes (R6.1, R6.2): immutable documents; a reversal is a new negative one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .errors import CreditExceedsInvoice, InvoiceMismatch

BASIS_POINTS = 10_000


def included_tax(total: int, rate_bp: int) -> int:
    """VAT contained in a tax-inclusive amount, rounded half up in integers (13 % = 1300 bp).

    Negative amounts mirror positive ones, so a full credit note offsets its invoice's tax exactly.
    """
    quotient, remainder = divmod(abs(total) * rate_bp, BASIS_POINTS + rate_bp)
    if 2 * remainder >= BASIS_POINTS + rate_bp:
        quotient += 1
    return -quotient if total < 0 else quotient


@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    quantity: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class Invoice:
    """An invoice (``kind="invoice"``) or a credit note (negative ``total`` and ``tax``)."""

    invoice_id: str
    kind: Literal["invoice", "credit_note"]
    order_id: str
    customer_id: str
    lines: tuple[InvoiceLine, ...]
    total: int
    tax: int
    tax_rate_bp: int
    issued_at: datetime
    discount: int = 0
    freight: int = 0
    deducted: int = 0  # deposits and payments already received, shown as deducted (R6.1)
    amount_due: int = 0
    original_invoice_id: str | None = None  # the invoice a credit note offsets (R6.2)
    return_id: str | None = None


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
) -> Invoice:
    """Invoice a shipped order; totals must agree with the lines (R1.5) and payments are deducted."""
    lines = tuple(lines)
    for line in lines:
        if line.quantity * line.unit_price != line.amount:
            raise InvoiceMismatch(f"line {line.sku}: {line.quantity} x {line.unit_price} != {line.amount}")
    expected = sum(line.amount for line in lines) - discount + freight
    if expected != total:
        raise InvoiceMismatch(f"lines - discount + freight = {expected}, not the total {total}")
    deducted = min(max(paid, 0), total)
    return Invoice(
        invoice_id,
        "invoice",
        order_id,
        customer_id,
        lines,
        total,
        included_tax(total, tax_rate_bp),
        tax_rate_bp,
        at,
        discount,
        freight,
        deducted,
        total - deducted,
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
) -> Invoice:
    """A negative entry offsetting ``amount`` of ``original``; never more than is left of it (R6.2)."""
    if amount < 0:
        raise CreditExceedsInvoice("a credit note amount is given as a positive number")
    if already_credited + amount > original.total:
        raise CreditExceedsInvoice(
            f"credit {amount} + {already_credited} already credited exceeds invoice "
            f"{original.invoice_id} total {original.total}"
        )
    negative = tuple(InvoiceLine(ln.sku, ln.quantity, ln.unit_price, -ln.amount) for ln in lines)
    # The original's rate applies: the credit note reverses that invoice's tax, not today's rate.
    return Invoice(
        credit_note_id,
        "credit_note",
        original.order_id,
        original.customer_id,
        negative,
        -amount,
        included_tax(-amount, original.tax_rate_bp),
        original.tax_rate_bp,
        at,
        amount_due=-amount,
        original_invoice_id=original.invoice_id,
        return_id=return_id,
    )
