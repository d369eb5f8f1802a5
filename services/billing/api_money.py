"""Billing's HTTP contract for money (API.md, issue 5): payments (R3.3), refunds (R7.1, R6.2) and
the per-order view. ``by`` is always the caller's key (Principal.name), never a field of the body;
a scoped key (ERP) sees only its customers' orders and refunds, anything else is a 404 (issue 7)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from services.billing.api import Deps, Id
from services.billing.domain import RefundRecord
from services.billing.payments import pay_out, record_payment
from services.billing.ports import REFUND_PAGES
from services.billing.schemas_money import OrderAccountPublic, PaymentCreate, PaymentPublic, RefundPublic
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.principal import Principal
from shared.access.roles import Permission as P
from shared.http import ApiError

router = APIRouter(tags=["billing"], responses=ERROR_RESPONSES)
RefundId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/payments", status_code=201, response_model=PaymentPublic)
async def post_payment(
    body: PaymentCreate,
    billing: Deps,
    response: Response,
    who: Annotated[Principal, requires(P.PAYMENTS_RECORD)],
) -> PaymentPublic:
    """Record money received for an order (R3.3), once per reference: the same reference and body
    again is the same payment (``Idempotent-Replayed: true``); overpayment, a closed (cancelled,
    rejected) order, another currency and a reference used for another payment are refused."""
    payment, account, new = await record_payment(
        billing, body.order_id, body.amount, body.reference, body.currency, who.name, acts_for=who.acts_for
    )
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    return PaymentPublic.of(payment, account)


@router.get("/billing/orders/{order_id}", response_model=OrderAccountPublic)
async def get_order_account(
    order_id: Id, billing: Deps, who: Annotated[Principal, requires(P.PAYMENTS_READ)]
) -> OrderAccountPublic:
    """One order's figures with billing: credit held, receivable, payments, refunds, documents."""
    loaded = await billing.accounts.load(order_id)
    if (
        loaded is None
        or loaded.aggregate.customer_id is None
        or not who.acts_for(loaded.aggregate.customer_id)
    ):
        raise ApiError(404, "not_found", f"billing has no order {order_id}")
    account = loaded.aggregate
    recorded = {r.refund_id: r for r in await billing.refunds.for_order(order_id)}
    # An entry whose record a crash left unwritten (its command's redelivery writes it) is owed.
    refunds = [
        recorded.get(r.refund_id)
        or RefundRecord(
            r.refund_id,
            order_id,
            account.customer_id,
            r.payment_id,
            r.amount,
            account.currency,
            r.reason,
            r.at,
        )
        for r in sorted(account.refunds.values(), key=lambda r: (r.at, r.refund_id))
    ]
    return OrderAccountPublic.of(account, refunds)


@router.get("/refunds", response_model=list[RefundPublic], responses=paging.PAGE_HEADERS)
async def list_refunds(
    billing: Deps,
    request: Request,
    response: Response,
    who: Annotated[Principal, requires(P.PAYMENTS_READ)],
    order_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["owed", "paid_out"] | None = None,
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list[RefundPublic]:
    """Refunds oldest first, of an order and/or a status (``owed``: finance's work list), a page at
    a time (docs/API.md "Paging"); an ERP key's pages hold only its customers'."""
    after = REFUND_PAGES.parse(cursor)
    size = paging.page_size(limit, billing.settings.max_page)
    page = await billing.refunds.page(
        order_id=order_id, status=status, limit=size, after=after, customers=who.customer_filter()
    )
    paging.link_next(request, response, REFUND_PAGES, page)
    return [RefundPublic.of(r) for r in page.items if who.acts_for(r.customer_id)]


@router.post("/refunds/{refund_id}/paid-out", response_model=RefundPublic)
async def post_refund_paid_out(
    refund_id: RefundId, billing: Deps, who: Annotated[Principal, requires(P.REFUNDS_PAY)]
) -> RefundPublic:
    """Finance paid the refund out to the customer (R7.1): recorded with who and when, once; a
    repeat answers the refund as it is."""
    return RefundPublic.of(await pay_out(billing, refund_id, who.name, acts_for=who.acts_for))
