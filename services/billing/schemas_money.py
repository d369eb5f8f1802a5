"""Request and response schemas of money in and out (R3.3, R7.1, R6.2): payments, refunds, and the
per-order view; money is integer fen, never a float."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from services.billing.domain import OrderAccount, Payment, RefundRecord
from shared.bounds import PositiveMoney
from shared.schemas import RequestModel

Currency = str


class PaymentCreate(RequestModel):
    """``POST /payments``: money received for an order; who recorded it is the caller's key."""

    order_id: str = Field(min_length=1, max_length=200)
    amount: PositiveMoney
    reference: str = Field(min_length=1, max_length=200, description="bank slip / transfer id: unique")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217; the order's if left out"
    )


class PaymentPublic(BaseModel):
    payment_id: str
    reference: str
    order_id: str
    customer_id: str
    amount: int
    currency: str
    received_at: datetime
    by: str
    paid_total: int = Field(description="received for the order so far, net of refunds")
    due: int = Field(description="left to pay for the order")

    @classmethod
    def of(cls, p: Payment, account: OrderAccount) -> PaymentPublic:
        return cls(
            payment_id=p.reference,
            reference=p.reference,
            order_id=p.order_id,
            customer_id=account.customer_id or "",
            amount=p.amount,
            currency=p.currency,
            received_at=p.received_at,
            by=p.by,
            paid_total=account.paid_total,
            due=account.due,
        )


class RefundPublic(BaseModel):
    refund_id: str
    order_id: str
    customer_id: str | None
    payment_id: str
    amount: int = Field(description="negative: a new entry offsetting the payment (R6.2)")
    currency: str
    reason: str
    created_at: datetime
    status: str = Field(description="owed | paid_out")
    paid_out_at: datetime | None
    paid_out_by: str

    @classmethod
    def of(cls, r: RefundRecord) -> RefundPublic:
        return cls(
            refund_id=r.refund_id,
            order_id=r.order_id,
            customer_id=r.customer_id,
            payment_id=r.payment_id,
            amount=r.amount,
            currency=r.currency,
            reason=r.reason,
            created_at=r.created_at,
            status=r.status,
            paid_out_at=r.paid_out_at,
            paid_out_by=r.paid_out_by,
        )


class AccountPaymentPublic(BaseModel):
    payment_id: str
    amount: int
    currency: str
    received_at: datetime
    by: str
    refunded: int


class OrderAccountPublic(BaseModel):
    """``GET /billing/orders/{order_id}``: one order's figures with billing (R3.3, R6, R7.1)."""

    order_id: str
    customer_id: str | None
    payment_terms: str
    currency: str
    total: int = Field(description="what the order costs (gross), the invoice's once issued")
    credit_state: str
    held: int
    receivable: int
    paid: int = Field(description="received, before refunds")
    refunded: int
    paid_total: int = Field(description="received net of refunds")
    due: int
    closed: str = Field(description='why no payments are taken ("released", "refunded"), "" while open')
    invoice_id: str | None
    invoiced: int
    credited: int
    credit_notes: dict[str, int] = Field(description="return id -> amount credited")
    payments: list[AccountPaymentPublic]
    refunds: list[RefundPublic]

    @classmethod
    def of(cls, a: OrderAccount, refunds: Sequence[RefundRecord]) -> OrderAccountPublic:
        payments = [
            AccountPaymentPublic(
                payment_id=p.reference,
                amount=p.amount,
                currency=p.currency,
                received_at=p.received_at,
                by=p.by,
                refunded=a.refunded_of(p.reference),
            )
            for p in sorted(a.payments.values(), key=lambda p: (p.received_at, p.reference))
        ]
        return cls(
            order_id=a.order_id,
            customer_id=a.customer_id,
            payment_terms=a.payment_terms,
            currency=a.currency,
            total=a.total,
            credit_state=a.state,
            held=a.held,
            receivable=a.receivable,
            paid=a.paid,
            refunded=a.refunded,
            paid_total=a.paid_total,
            due=a.due,
            closed=a.closed,
            invoice_id=a.invoice_id,
            invoiced=a.invoiced,
            credited=a.credited,
            credit_notes=dict(a.credit_notes),
            payments=payments,
            refunds=[RefundPublic.of(r) for r in refunds],
        )
