"""Billing's HTTP contract (API.md): customers and their credit, invoices (money: api_money.py).

Every route declares its permission (shared.access). An ERP key acts for its company's
customers only: another customer, its orders and invoices are a 404 (issue 7); credit figures
are for internal roles (CustomerInternal), an ERP reads CustomerPublic.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.billing.deps import Billing
from services.billing.domain import Customer
from services.billing.handlers import put_customer
from services.billing.ports import INVOICE_PAGES
from services.billing.schemas import CustomerInternal, CustomerPublic, CustomerPut, InvoicePublic
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.principal import Principal
from shared.access.roles import Permission as P
from shared.http import ApiError
from shared.service import Context

router = APIRouter(tags=["billing"], responses=ERROR_RESPONSES)
Id = Annotated[str, Path(min_length=1, max_length=200)]
CustomerView = CustomerInternal | CustomerPublic


def get_billing(ctx: Context) -> Billing:
    return ctx.state["billing"]  # type: ignore[no-any-return]


Deps = Annotated[Billing, Depends(get_billing)]


async def _view(billing: Billing, customer: Customer, who: Principal) -> CustomerView:
    if not who.internal:
        return CustomerPublic.of(customer)
    # Another service's key (intake's door, once per order placed) reads terms: no list, no query.
    shown = 0 if who.role.name == "service" else billing.settings.open_orders_shown
    orders = await billing.accounts.open_for_customer(customer.customer_id, shown) if shown else []
    return CustomerInternal.of(customer, orders, billing.settings.special_invoice_taxpayer)


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what}")


@router.put("/customers/{customer_id}", response_model=CustomerView)
async def put_customer_terms(
    customer_id: Id,
    body: CustomerPut,
    billing: Deps,
    response: Response,
    who: Annotated[Principal, requires(P.CUSTOMERS_WRITE)],
) -> CustomerView:
    """Create or update a customer's payment terms (R3.2), credit limit (R3.1) and tax identity (R6.1)."""
    if not who.acts_for(customer_id):
        raise _not_found(f"customer {customer_id}")
    customer, created = await put_customer(
        billing, customer_id, body.name, body.payment_terms, body.credit_limit, body.taxpayer, body.tax_number
    )
    response.status_code = 201 if created else 200
    return await _view(billing, customer, who)


@router.get("/customers/{customer_id}", response_model=CustomerView)
async def get_customer(
    customer_id: Id, billing: Deps, who: Annotated[Principal, requires(P.CUSTOMERS_READ)]
) -> CustomerView:
    """A customer's terms; internal roles also see the credit limit, exposure (held + receivable),
    unapplied money, available credit, the invoice type it gets and its open orders."""
    customer = await billing.customers.get(customer_id) if who.acts_for(customer_id) else None
    if customer is None:
        raise _not_found(f"customer {customer_id}")
    return await _view(billing, customer, who)


@router.get("/invoices", response_model=list[InvoicePublic], responses=paging.PAGE_HEADERS)
async def list_invoices(
    billing: Deps,
    request: Request,
    response: Response,
    who: Annotated[Principal, requires(P.INVOICES_READ)],
    order_id: Annotated[str | None, Query(max_length=200)] = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list[InvoicePublic]:
    """Invoices and credit notes of an order (or a customer), oldest first (R6.2: never edited),
    a page at a time (docs/API.md "Paging"); an ERP key's pages hold only its customers'."""
    after = INVOICE_PAGES.parse(cursor)
    size, mine = paging.page_size(limit, billing.settings.max_page), who.customer_filter()
    if order_id:
        page = await billing.invoices.page(order_id=order_id, limit=size, after=after, customers=mine)
    elif customer_id:
        page = await billing.invoices.page(customer_id=customer_id, limit=size, after=after, customers=mine)
    else:
        raise ApiError(422, "validation_failed", "give order_id or customer_id", {"order_id": "required"})
    paging.link_next(request, response, INVOICE_PAGES, page)
    documents = page.items
    return [InvoicePublic.of(doc) for doc in documents if who.acts_for(doc.customer_id)]


@router.get("/invoices/{invoice_id}", response_model=InvoicePublic)
async def get_invoice(
    invoice_id: Id, billing: Deps, who: Annotated[Principal, requires(P.INVOICES_READ)]
) -> InvoicePublic:
    """One invoice or credit note by its number (INV... / CN...)."""
    document = await billing.invoices.get(invoice_id)
    if document is None or not who.acts_for(document.customer_id):
        raise ApiError(404, "not_found", f"no invoice {invoice_id}")
    return InvoicePublic.of(document)


@router.get("/finance-notices")
async def finance_notices(
    billing: Deps,
    who: Annotated[Principal, requires(P.PAYMENTS_READ)],
    order_id: Annotated[str, Query(min_length=1, max_length=40)],
) -> list[dict]:
    """What finance was told of a confirmed order (R2.5): amount, payment terms, invoice type
    (R6.1); empty until the customer accepted it. Another customer's order reads as empty."""
    notices = await billing.notices.for_order("finance", order_id)
    return [n for n in notices if who.acts_for(n.get("customer_id"))]
