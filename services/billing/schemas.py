"""Request and response schemas of billing's customers and invoices (API.md); money is integer fen.

Payments, refunds and order accounts are in schemas_money.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from services.billing.domain import Customer, Invoice, OrderAccount, invoice_type_for
from shared.bounds import Money
from shared.schemas import RequestModel
from shared.terms import ALIASES, PAYMENT_TERMS, normalise

TERM_WORDS = f"one of {', '.join(PAYMENT_TERMS)} (also {', '.join(ALIASES)})"


class CustomerPut(RequestModel):
    """``PUT /customers/{id}``; ``exposure`` and the per-order figures are the server's (issue 7).
    ``taxpayer`` and ``tax_number`` left out keep what is stored (``small_scale``, none for a new one)."""

    name: str = Field(min_length=1, max_length=300)
    payment_terms: str = Field(max_length=40, description=f"a payment term (R3.2): {TERM_WORDS}")
    credit_limit: Money
    taxpayer: Literal["general", "small_scale"] | None = Field(
        default=None,
        description="VAT taxpayer class (R6.1): general taxpayers with a tax number get VAT special invoices",
    )
    tax_number: str | None = Field(
        default=None,
        max_length=30,
        pattern=r"^[0-9A-Za-z]*$",
        description="the unified social credit code / taxpayer id",
    )

    @field_validator("payment_terms")
    @classmethod
    def _a_term(cls, value: str) -> str:
        term = normalise(value)
        if term is None:
            raise ValueError(f"unknown payment term {value!r}: {TERM_WORDS}")
        return term


class OrderCreditPublic(BaseModel):
    order_id: str
    state: str
    held: int
    receivable: int
    paid: int  # received for the order, net of refunds
    invoice_id: str | None

    @classmethod
    def of(cls, a: OrderAccount) -> OrderCreditPublic:
        return cls(
            order_id=a.order_id,
            state=a.state,
            held=a.held,
            receivable=a.receivable,
            paid=a.paid_total,
            invoice_id=a.invoice_id,
        )


class CustomerPublic(BaseModel):
    """A customer as its own ERP sees it: no credit figures (issue 7)."""

    customer_id: str
    name: str
    payment_terms: str
    currency: str = "CNY"

    @classmethod
    def of(cls, c: Customer) -> CustomerPublic:
        return cls(customer_id=c.customer_id, name=c.name, payment_terms=c.payment_terms)


class CustomerInternal(CustomerPublic):
    """A customer as the company sees it: limit, exposure (held + receivable), unapplied money,
    available credit, the tax identity and the invoice type it gets, its open orders."""

    credit_limit: int
    exposure: int
    held: int
    receivable: int
    unapplied: int
    available: int
    available_credit: int  # the same as ``available`` (its name before issue 5)
    taxpayer: str
    tax_number: str
    invoice_type: str
    orders: list[OrderCreditPublic] = Field(description="orders counting in the exposure now, oldest first")

    @classmethod
    def of(  # type: ignore[override]
        cls, c: Customer, orders: Sequence[OrderAccount] = (), special_for: str = "general"
    ) -> CustomerInternal:
        return cls(
            customer_id=c.customer_id,
            name=c.name,
            payment_terms=c.payment_terms,
            credit_limit=c.credit_limit,
            exposure=c.exposure,
            held=c.held,
            receivable=c.receivable,
            unapplied=c.unapplied,
            available=c.available_credit,
            available_credit=c.available_credit,
            taxpayer=c.taxpayer,
            tax_number=c.tax_number,
            invoice_type=invoice_type_for(c, special_for),
            orders=[OrderCreditPublic.of(a) for a in orders],
        )


class InvoiceLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: int
    amount: int
    tax: int  # the line's share of the document's tax


class InvoicePublic(BaseModel):
    invoice_id: str
    order_id: str
    customer_id: str
    kind: Literal["invoice", "credit_note"]
    invoice_type: str = Field(description="vat_special | vat_ordinary (R6.1)")
    prices_include_tax: bool
    net: int
    tax: int
    total: int = Field(description="gross: what the customer pays (negative on a credit note)")
    tax_rate_bp: int
    lines: list[InvoiceLinePublic]
    discount: int
    freight: int
    deducted: int = Field(description="payments received before the invoice (R6.1)")
    amount_due: int
    issued_at: datetime
    original_invoice_id: str | None
    return_id: str | None
    currency: str = "CNY"
    buyer_tax_number: str

    @classmethod
    def of(cls, inv: Invoice) -> InvoicePublic:
        lines = [
            InvoiceLinePublic(
                sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount, tax=ln.tax
            )
            for ln in inv.lines
        ]
        return cls(
            invoice_id=inv.invoice_id,
            order_id=inv.order_id,
            customer_id=inv.customer_id,
            kind=inv.kind,
            invoice_type=inv.invoice_type,
            prices_include_tax=inv.prices_include_tax,
            net=inv.net if inv.net or not inv.total else inv.total - inv.tax,  # documents before issue 5
            tax=inv.tax,
            total=inv.total,
            tax_rate_bp=inv.tax_rate_bp,
            lines=lines,
            discount=inv.discount,
            freight=inv.freight,
            deducted=inv.deducted,
            amount_due=inv.amount_due,
            issued_at=inv.issued_at,
            original_invoice_id=inv.original_invoice_id,
            return_id=inv.return_id,
            currency=inv.currency,
            buyer_tax_number=inv.buyer_tax_number,
        )
