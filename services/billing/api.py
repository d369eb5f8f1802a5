"""Billing's HTTP contract (API.md): customers and their credit, payments, invoices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from services.billing.domain import Customer, Invoice, PaymentConflict, UnknownOrder
from services.billing.handlers import Billing, put_customer
from services.billing.invoicing import record_payment
from shared.http import ApiError
from shared.service import Context

router = APIRouter(tags=["billing"])
Money = Annotated[StrictInt, Field(ge=0)]  # fen; floats are refused (API.md)
Id = Annotated[str, Path(min_length=1, max_length=200)]


def get_billing(ctx: Context) -> Billing:
    return ctx.state["billing"]  # type: ignore[no-any-return]


Deps = Annotated[Billing, Depends(get_billing)]


class CustomerPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
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
    customer_id: str
    name: str
    payment_terms: str
    credit_limit: int
    exposure: int
    available_credit: int
    currency: str = "CNY"
    orders: list[OrderCreditPublic]

    @classmethod
    def of(cls, c: Customer) -> CustomerPublic:
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


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(min_length=1, max_length=200)
    amount: Annotated[StrictInt, Field(gt=0)]
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


@router.put("/customers/{customer_id}", response_model=CustomerPublic)
async def put_customer_terms(
    customer_id: Id, body: CustomerPut, billing: Deps, response: Response
) -> CustomerPublic:
    """Create or update a customer's payment terms and credit limit (R3.1, R3.2)."""
    customer, created = await put_customer(
        billing, customer_id, body.name, body.payment_terms, body.credit_limit
    )
    response.status_code = 201 if created else 200
    return CustomerPublic.of(customer)


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
async def get_customer(customer_id: Id, billing: Deps) -> CustomerPublic:
    """A customer's credit limit, exposure (held + unpaid invoiced) and available credit."""
    loaded = await billing.customers.load(customer_id)
    if loaded is None:
        raise ApiError(404, "customer_not_found", f"no customer {customer_id}")
    return CustomerPublic.of(loaded[0])


@router.post("/payments", status_code=201, response_model=PaymentPublic)
async def post_payment(body: PaymentCreate, billing: Deps) -> PaymentPublic:
    """Record money received for an order; the same reference is recorded once (R3.3)."""
    try:
        payment, customer_id = await record_payment(billing, body.order_id, body.amount, body.reference)
    except UnknownOrder as exc:
        raise ApiError(404, exc.code, str(exc), {"order_id": "unknown to billing"}) from exc
    except PaymentConflict as exc:
        raise ApiError(409, exc.code, str(exc), {"reference": "already used"}) from exc
    return PaymentPublic(
        payment_id=payment.reference,
        reference=payment.reference,
        order_id=payment.order_id,
        customer_id=customer_id,
        amount=payment.amount,
        received_at=payment.received_at,
    )


@router.get("/invoices", response_model=list[InvoicePublic])
async def list_invoices(
    billing: Deps,
    order_id: Annotated[str | None, Query(max_length=200)] = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
) -> list[InvoicePublic]:
    """Invoices and credit notes of an order (or a customer), oldest first (R6.2: never edited)."""
    limit = billing.settings.max_page
    if order_id:
        documents = await billing.invoices.for_order(order_id, limit)
    elif customer_id:
        documents = await billing.invoices.for_customer(customer_id, limit)
    else:
        raise ApiError(422, "validation_failed", "give order_id or customer_id", {"order_id": "required"})
    return [InvoicePublic.of(doc) for doc in documents]


@router.get("/invoices/{invoice_id}", response_model=InvoicePublic)
async def get_invoice(invoice_id: Id, billing: Deps) -> InvoicePublic:
    """One invoice or credit note by its number (INV... / CN...)."""
    document = await billing.invoices.get(invoice_id)
    if document is None:
        raise ApiError(404, "invoice_not_found", f"no invoice {invoice_id}")
    return InvoicePublic.of(document)
