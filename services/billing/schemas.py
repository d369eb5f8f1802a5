"""Request and response schemas of billing's HTTP API (API.md); money is integer fen, never a float."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.billing.domain import Customer, Invoice
from shared.bounds import Money, PositiveMoney
from shared.schemas import RequestModel


class CustomerPut(RequestModel):
    """``PUT /customers/{id}``; ``exposure`` and the per-order figures are the server's (issue 7)."""

    name: str = Field(min_length=1, max_length=300)
    payment_terms: Literal["credit", "prepaid", "deposit"]
    credit_limit: Money


class OrderCreditPublic(BaseModel):
    order_id: str
    state: str
    held: int
    receivable: int
    paid: int
    invoice_id: str | None


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
    """A customer as the company sees it: limit, exposure, available credit, per-order figures."""

    credit_limit: int
    exposure: int
    available_credit: int
    orders: list[OrderCreditPublic]

    @classmethod
    def of(cls, c: Customer) -> CustomerInternal:
        orders = [
            OrderCreditPublic(
                order_id=oid,
                state=e.state,
                held=e.held,
                receivable=e.receivable,
                paid=e.paid,
                invoice_id=e.invoice_id,
            )
            for oid, e in c.orders.items()
        ]
        return cls(
            customer_id=c.customer_id,
            name=c.name,
            payment_terms=c.payment_terms,
            credit_limit=c.credit_limit,
            exposure=c.exposure,
            available_credit=c.available_credit,
            orders=orders,
        )


class PaymentCreate(RequestModel):
    order_id: str = Field(min_length=1, max_length=200)
    amount: PositiveMoney
    reference: str = Field(min_length=1, max_length=200)


class PaymentPublic(BaseModel):
    payment_id: str
    reference: str
    order_id: str
    customer_id: str
    amount: int
    received_at: datetime


class InvoiceLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: int
    amount: int


class InvoicePublic(BaseModel):
    invoice_id: str
    order_id: str
    customer_id: str
    kind: Literal["invoice", "credit_note"]
    total: int
    tax: int
    tax_rate_bp: int
    lines: list[InvoiceLinePublic]
    discount: int
    freight: int
    deducted: int
    amount_due: int
    issued_at: datetime
    original_invoice_id: str | None
    return_id: str | None
    currency: str = "CNY"

    @classmethod
    def of(cls, inv: Invoice) -> InvoicePublic:
        lines = [
            InvoiceLinePublic(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount)
            for ln in inv.lines
        ]
        return cls(
            invoice_id=inv.invoice_id,
            order_id=inv.order_id,
            customer_id=inv.customer_id,
            kind=inv.kind,
            total=inv.total,
            tax=inv.tax,
            tax_rate_bp=inv.tax_rate_bp,
            lines=lines,
            discount=inv.discount,
            freight=inv.freight,
            deducted=inv.deducted,
            amount_due=inv.amount_due,
            issued_at=inv.issued_at,
            original_invoice_id=inv.original_invoice_id,
            return_id=inv.return_id,
        )
