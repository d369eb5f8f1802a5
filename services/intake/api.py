"""Intake's HTTP API (API.md "intake: orders"), plus approve/reject for orders on hold (R2.2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query

from services.intake import handlers
from services.intake.deps import Deps
from services.intake.domain.order import CHANNELS, STATUSES
from services.intake.schemas import Decision, OrderCreate, OrderPage, OrderPublic, Reason, order_public
from shared.http import ApiError

router = APIRouter(tags=["orders"])
OrderId = Annotated[str, Path(min_length=1, max_length=40)]




@router.post("/orders", status_code=201, response_model=OrderPublic)
async def post_order(
    body: OrderCreate,
    intake: Deps,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderPublic:
    """Place an order from any channel (R1); the same Idempotency-Key and body return the same order."""
    key = (idempotency_key or "").strip() or None
    doc = await handlers.place_order(
        intake, body.to_request(), idempotency_key=key, body_hash=body.fingerprint()
    )
    return order_public(doc)


@router.get("/orders/{order_id}", response_model=OrderPublic)
async def get_order(order_id: OrderId, intake: Deps) -> OrderPublic:
    """One order with its status, lines, total, priority, flags, history, tracking and invoices."""
    doc = await intake.orders.get(order_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no order {order_id}")
    return order_public(doc)


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    intake: Deps,
    status: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> OrderPage:
    """A page of orders, newest first; pass `next_cursor` back as `cursor` for the next page."""
    fields = {}
    if status is not None and status not in STATUSES:
        fields["status"] = f"must be one of {', '.join(STATUSES)}"
    if channel is not None and channel not in CHANNELS:
        fields["channel"] = f"must be one of {', '.join(CHANNELS)}"
    if cursor is not None and not cursor.isdigit():
        fields["cursor"] = "not a cursor this API gave out"
    if fields:
        raise ApiError(422, "validation_failed", "the request has invalid fields", fields)
    filters = {k: v for k, v in (("status", status), ("customer_id", customer_id), ("channel", channel)) if v}
    size = min(limit or intake.settings.page_size, intake.settings.max_page)
    docs = await intake.orders.page(filters, size + 1, int(cursor) if cursor else None)
    more = len(docs) > size
    docs = docs[:size]
    return OrderPage(
        items=[order_public(d) for d in docs], next_cursor=str(docs[-1]["seq"]) if more else None
    )


@router.post("/orders/{order_id}/cancel", status_code=202, response_model=OrderPublic)
async def cancel_order(order_id: OrderId, body: Reason, intake: Deps) -> OrderPublic:
    """Cancel an unshipped order: every step taken is undone (R7.1); shipped orders get 409 (R7.3)."""
    return order_public(await handlers.cancel_order(intake, order_id, body.by, body.reason))


@router.post("/orders/{order_id}/approve", response_model=OrderPublic)
async def approve_order(order_id: OrderId, body: Decision, intake: Deps) -> OrderPublic:
    """Let an order on hold continue (credit over limit R3.1, large order R2.2); 409 unless on hold."""
    return order_public(await handlers.approve_order(intake, order_id, body.by, body.reason))


@router.post("/orders/{order_id}/reject", response_model=OrderPublic)
async def reject_order(order_id: OrderId, body: Decision, intake: Deps) -> OrderPublic:
    """Refuse an order on hold, recording who and why (R2.2); 409 unless on hold."""
    return order_public(await handlers.reject_order(intake, order_id, body.by, body.reason))
