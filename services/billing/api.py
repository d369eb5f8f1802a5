"""Billing's HTTP contract (API.md): customers and their credit, payments, invoices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from services.billing.deps import Billing
from services.billing.domain import PaymentConflict, UnknownOrder
from services.billing.handlers import put_customer
from services.billing.invoicing import record_payment
from services.billing.schemas import CustomerPublic, CustomerPut, InvoicePublic, PaymentCreate, PaymentPublic
from shared.http import ApiError
from shared.service import Context

router = APIRouter(tags=["billing"])
Id = Annotated[str, Path(min_length=1, max_length=200)]


def get_billing(ctx: Context) -> Billing:
    return ctx.state["billing"]  # type: ignore[no-any-return]


Deps = Annotated[Billing, Depends(get_billing)]


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
        raise ApiError(404, "not_found", f"no customer {customer_id}")
    return CustomerPublic.of(loaded.aggregate)


@router.post("/payments", status_code=201, response_model=PaymentPublic)
async def post_payment(body: PaymentCreate, billing: Deps) -> PaymentPublic:
    """Record money received for an order; the same reference is recorded once (R3.3)."""
    try:
        payment, customer_id = await record_payment(billing, body.order_id, body.amount, body.reference)
    except UnknownOrder as exc:  # 404 not_found (shared.http), naming the field
        exc.fields = {"order_id": "unknown to billing"}
        raise
    except PaymentConflict as exc:  # 409 payment_conflict
        exc.fields = {"reference": "already used"}
        raise
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
        raise ApiError(404, "not_found", f"no invoice {invoice_id}")
    return InvoicePublic.of(document)
