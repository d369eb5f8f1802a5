"""Intake's HTTP API (API.md "intake: orders"), plus approve/reject for orders on hold (R2.2).

Every route declares its permission (shared.access); the caller's key says who acts (the
``by`` of every history step) and, for storefront and ERP keys, which customers' orders it
may see: another customer's order is a 404, exactly like one that does not exist (issue 7).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import HTMLResponse

from services.intake import changing, handlers
from services.intake.adapters.mapping import from_doc
from services.intake.deps import Deps, Intake
from services.intake.domain import changes as ch
from services.intake.domain import confirmation as cf
from services.intake.domain.order import CHANNELS, STATUSES, normalise_channel
from services.intake.schemas import (
    AwaitingPage,
    ChangeIn,
    ChangePreview,
    Claim,
    ConfirmationDocument,
    Decision,
    LineCancel,
    MergeIn,
    OrderCreate,
    OrderInternal,
    OrderPage,
    OrderPublic,
    Reason,
    ReviewQueue,
    confirmation_document,
    confirmation_html,
    order_internal,
    order_view,
)
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.principal import Principal
from shared.access.roles import Permission as P
from shared.http import ApiError
from shared.terms import PAYMENT_TERMS

router = APIRouter(tags=["orders"], responses=ERROR_RESPONSES)
OrderId = Annotated[str, Path(min_length=1, max_length=40)]
OrderView = OrderInternal | OrderPublic
Placer = Annotated[Principal, requires(P.ORDERS_PLACE)]
Reader = Annotated[Principal, requires(P.ORDERS_READ)]
Canceller = Annotated[Principal, requires(P.ORDERS_CANCEL)]
Changer = Annotated[Principal, requires(P.ORDERS_CHANGE)]
Decider = Annotated[Principal, requires(P.ORDERS_DECIDE)]
Checker = Annotated[Principal, requires(P.PAYMENTS_CHECK)]
Finance = Annotated[Principal, requires(P.PAYMENTS_READ)]
_CURSOR = r"^[0-9]{1,18}$"


def _check_query(cursor: str | None, **words: tuple[str | None, tuple[str, ...]]) -> None:
    """A list's query: each named word one of its vocabulary, the cursor one this API gave out;
    every field error at once, as a 422."""
    fields = {
        name: f"must be one of {', '.join(allowed)}"
        for name, (value, allowed) in words.items()
        if value is not None and value not in allowed
    }
    if cursor is not None and not re.fullmatch(_CURSOR, cursor):
        fields["cursor"] = "not a cursor this API gave out"
    if fields:
        raise ApiError(422, "validation_failed", "the request has invalid fields", fields)


async def _own_order(intake: Intake, order_id: str, who: Principal) -> dict[str, Any]:
    """The order if it exists and ``who`` may see it; otherwise the same 404 either way."""
    doc = await intake.orders.get(order_id)
    if doc is None or not who.acts_for(doc.get("customer_id")):
        raise ApiError(404, "not_found", f"no order {order_id}")
    return doc


@router.post("/orders", status_code=201, response_model=OrderView)
async def post_order(
    body: OrderCreate,
    intake: Deps,
    who: Placer,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> OrderView:
    """Place an order from any channel (R1); the same Idempotency-Key and body return the same order.

    A storefront or ERP key places orders only for its own customers (403 naming
    ``customer_id`` otherwise), and a storefront key only on its own channel.
    """
    if not who.acts_for(body.customer_id):
        raise ApiError(403, "forbidden", "this key does not act for that customer",
                       {"customer_id": "not one of this key's customers"})  # fmt: skip
    if who.channel is not None and body.channel != who.channel:
        raise ApiError(403, "forbidden", f"this key places orders on the {who.channel} channel only",
                       {"channel": f"must be {who.channel} for this key"})  # fmt: skip
    # Keys are the caller's own: another caller's "demo-1" is another key (no replay of their order).
    raw = (idempotency_key or "").strip()
    key = f"{who.key_id}:{raw}" if raw else None
    doc = await handlers.place_order(
        intake, body.to_request(), idempotency_key=key, body_hash=body.fingerprint(), placed_by=who.name
    )
    return order_view(doc, who.internal)


@router.get("/finance/awaiting-payment", response_model=AwaitingPage)
async def awaiting_payment(
    intake: Deps,
    who: Finance,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    payment_terms: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> AwaitingPage:
    """Orders waiting at a payment gate, oldest first, each with its `awaiting` gate (what is due,
    how much, by when) and `amount_due` (R3.2, R3.3); filter by customer and payment term."""
    _check_query(cursor, payment_terms=(payment_terms, PAYMENT_TERMS))
    if customer_id is not None and not who.acts_for(customer_id):
        return AwaitingPage(items=[], next_cursor=None)
    size = min(limit or intake.settings.page_size, intake.settings.max_page)
    docs = await intake.orders.awaiting_payment(
        size + 1, int(cursor) if cursor else None, who.customer_filter(), customer_id, payment_terms
    )
    more, docs = len(docs) > size, docs[:size]
    items: Any = [order_view(d, who.internal) for d in docs]
    return AwaitingPage(items=items, next_cursor=str(docs[-1]["seq"]) if more else None)


@router.get("/orders/{order_id}", response_model=OrderView)
async def get_order(order_id: OrderId, intake: Deps, who: Reader) -> OrderView:
    """One order with its status, lines, total, history, tracking and invoices (internal roles
    also see the phone, priority, flags and reasons)."""
    return order_view(await _own_order(intake, order_id, who), who.internal)


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    intake: Deps,
    who: Reader,
    status: Annotated[str | None, Query(max_length=40)] = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    stuck: Annotated[bool | None, Query(description="internal roles: orders with a parked message")] = None,
) -> OrderPage:
    """A page of orders, newest first; pass `next_cursor` back as `cursor` for the next page.
    A storefront or ERP key sees only its own customers' orders; `stuck=true` (internal roles)
    lists the orders a message of which is parked (issue 7)."""
    if stuck is not None and not who.internal:
        raise ApiError(403, "forbidden", "only internal roles may ask for stuck orders",
                       {"stuck": "internal roles only"})  # fmt: skip
    channel = normalise_channel(channel)
    _check_query(cursor, status=(status, STATUSES), channel=(channel, CHANNELS))
    if customer_id is not None and not who.acts_for(customer_id):
        return OrderPage(items=[], next_cursor=None)  # another customer's orders: none to see
    filters = {k: v for k, v in (("status", status), ("customer_id", customer_id), ("channel", channel)) if v}
    size = min(limit or intake.settings.page_size, intake.settings.max_page)
    docs = await intake.orders.page(
        filters, size + 1, int(cursor) if cursor else None, customers=who.customer_filter(), stuck=stuck
    )
    more = len(docs) > size
    docs = docs[:size]
    items: Any = [order_view(d, who.internal) for d in docs]
    return OrderPage(items=items, next_cursor=str(docs[-1]["seq"]) if more else None)


@router.post("/orders/{order_id}/cancel", status_code=202, response_model=OrderView)
async def cancel_order(order_id: OrderId, body: Reason, intake: Deps, who: Canceller) -> OrderView:
    """Cancel an unshipped order: every step taken is undone (R7.1); shipped orders get 409 (R7.3).
    The history records the caller's key name as who cancelled."""
    await _own_order(intake, order_id, who)
    return order_view(await handlers.cancel_order(intake, order_id, who.name, body.reason), who.internal)


# --- changing an accepted order (issue 8, R7.2, R4.2) --------------------------------------------


def _fields(body: ChangeIn) -> dict[str, Any]:
    return {"lines": body.line_requests(), "delivery_address": body.delivery_address,
            "required_by": body.required_by, "reason": body.reason}  # fmt: skip


@router.post("/orders/{order_id}/changes/preview", response_model=ChangePreview)
async def preview_change(order_id: OrderId, body: ChangeIn, intake: Deps, who: Changer) -> ChangePreview:
    """What the change would do downstream - stock to reserve or release (with what is free now),
    supply to raise, shrink or cancel, credit to hold or release, the new total, whether production
    must agree (R7.2) - changing nothing; 409 with the reason when the order cannot change now."""
    await _own_order(intake, order_id, who)
    return ChangePreview(**await changing.preview(intake, order_id, **_fields(body)))


@router.post("/orders/{order_id}/changes", status_code=202, response_model=OrderView)
async def change_order(order_id: OrderId, body: ChangeIn, intake: Deps, who: Changer) -> OrderView:
    """Amend the order: its lines (all of them), delivery date or address (R7.2). The saga runs
    the steps for the difference only and the order is confirmed again; `changes[-1]` says where it
    stands. 409: shipped (a return, R7.3), not changeable now (the reason), another change running,
    or `version` not the order's any more."""
    doc = await _own_order(intake, order_id, who)
    wanted = await changing.asked(intake, from_doc(doc), **_fields(body))
    changed = await changing.start(intake, order_id, who.name, body.version, wanted)
    return order_view(changed, who.internal)


@router.post("/orders/{order_id}/lines/{line}/cancel", status_code=202, response_model=OrderView)
async def cancel_line(
    order_id: OrderId,
    line: Annotated[int, Path(ge=1, le=10_000)],
    body: LineCancel,
    intake: Deps,
    who: Changer,
) -> OrderView:
    """Cancel line `line` (1-based), `quantity` units of it, or with `short` the part of it still
    short (R4.2); its reservation, supply and credit are released, the rest of the order goes on."""
    doc = await _own_order(intake, order_id, who)
    order = from_doc(doc)
    lines = ch.line_cancel(order, line, body.quantity, body.short)
    wanted = ch.Asked(kind="line_cancel", lines=lines, reason=body.reason)
    changed = await changing.start(intake, order_id, who.name, body.version, wanted)
    return order_view(changed, who.internal)


@router.post("/orders/{order_id}/merge", status_code=202, response_model=OrderView)
async def merge_order(order_id: OrderId, body: MergeIn, intake: Deps, who: Changer) -> OrderView:
    """Merge order `body.order_id` into this one (R1.8): same customer, phone, address, channel,
    currency, terms and tax basis (409 `merge_mismatch` names each field that differs), both
    waiting for stock or payment (409 with the reason otherwise). The other order gives back
    what it holds and ends `merged` (`merged_into` points here); this one takes its lines on as
    a change of kind `merge` (credit, stock and supply follow) and is confirmed again."""
    await _own_order(intake, order_id, who)
    await _own_order(intake, body.order_id, who)
    doc = await handlers.merge_orders(intake, order_id, body.order_id, who.name, body.reason)
    return order_view(doc, who.internal)


def _tiers(who: Principal) -> frozenset[str]:
    """The approval tiers a caller may give (R2.1, R2.2): reviewer, manager, general manager."""
    tiers = {"review"}
    if who.may(P.APPROVE_MANAGER):
        tiers.add("manager")
    if who.may(P.APPROVE_GENERAL_MANAGER):
        tiers.add("general_manager")
    return frozenset(tiers)


@router.get("/review-queue", response_model=ReviewQueue)
async def review_queue(
    intake: Deps, who: Decider, limit: Annotated[int | None, Query(ge=1, le=500)] = None
) -> ReviewQueue:
    """Orders waiting for a person (R2.1-R2.3): urgent, key, normal, then oldest first, each with
    `hold`, `approval_tier`, `approval_reasons`, `flags` (the history says why) and its claim."""
    docs = await intake.orders.review_queue(min(limit or intake.settings.page_size, intake.settings.max_page))
    return ReviewQueue(items=[order_internal(d) for d in docs])


@router.post("/review-queue/claims", response_model=ReviewQueue)
async def claim_orders(body: Claim, intake: Deps, who: Decider) -> ReviewQueue:
    """Claim up to `count` orders nobody holds (R2.3): each is the caller's alone until
    INTAKE_CLAIM_TTL_S passes, it is released or decided; two reviewers never get the same order."""
    count = min(body.count, intake.settings.claim_batch_max)
    claimed = await handlers.claim_orders(intake, who.name, count)
    return ReviewQueue(items=[order_internal(d) for d in claimed])


@router.post("/orders/{order_id}/release", response_model=OrderView)
async def release_order(order_id: OrderId, intake: Deps, who: Decider) -> OrderView:
    """Give a claimed order back to the queue (R2.3); 409 when another reviewer holds it."""
    return order_view(await handlers.release_order(intake, order_id, who.name), who.internal)


@router.post("/orders/{order_id}/approve", response_model=OrderView)
async def approve_order(order_id: OrderId, body: Decision, intake: Deps, who: Decider) -> OrderView:
    """Let an order on hold continue: flagged (a reviewer, R2.1), over the credit limit (R3.1), or
    what R2.2 names (a manager; the largest then a general manager: 403 without the tier); 409
    unless on hold, or while another reviewer holds its claim. Who approved is the caller's key."""
    doc = await handlers.approve_order(intake, order_id, who.name, body.reason, _tiers(who))
    return order_view(doc, who.internal)


@router.post("/orders/{order_id}/reject", response_model=OrderView)
async def reject_order(order_id: OrderId, body: Decision, intake: Deps, who: Decider) -> OrderView:
    """Refuse an order on hold, recording who (the caller's key) and why (R2.2); 409 unless on hold."""
    doc = await handlers.reject_order(intake, order_id, who.name, body.reason, _tiers(who))
    return order_view(doc, who.internal)


@router.post("/orders/{order_id}/payment-check", response_model=OrderView)
async def check_payment(order_id: OrderId, body: Decision, intake: Deps, who: Checker) -> OrderView:
    """Finance checked what the order's terms ask to be checked before production (a letter of
    credit, R3.2); an order waiting for it goes on. 409 once shipped. Who checked is the caller's key."""
    await _own_order(intake, order_id, who)
    return order_view(await handlers.check_payment(intake, order_id, who.name, body.reason), who.internal)


# --- the order confirmation (R2.4) ---------------------------------------------------------------


@router.get("/orders/{order_id}/confirmation", response_model=ConfirmationDocument)
async def get_confirmation(order_id: OrderId, intake: Deps, who: Reader) -> ConfirmationDocument:
    """The order confirmation as last sent: number, lines, total, delivery date, payment terms
    (R2.4); `version` 0 until the order is approved. `/confirmation.html` is the printable one."""
    return confirmation_document(await _own_order(intake, order_id, who))


@router.get("/orders/{order_id}/confirmation.html", response_class=HTMLResponse)
async def get_confirmation_html(order_id: OrderId, intake: Deps, who: Reader) -> HTMLResponse:
    """The printable order confirmation (R2.4)."""
    return HTMLResponse(confirmation_html(confirmation_document(await _own_order(intake, order_id, who))))


@router.post("/orders/{order_id}/confirmation/accept", response_model=ConfirmationDocument)
async def accept_confirmation(order_id: OrderId, intake: Deps, who: Placer) -> ConfirmationDocument:
    """The customer accepts the confirmation as sent (R2.4); 409 when none is waiting for an answer.
    Who accepted is the caller's key."""
    await _own_order(intake, order_id, who)
    doc = await handlers.confirmation(intake, order_id, lambda order, at: cf.accept(order, who.name, at))
    return confirmation_document(doc)


@router.post("/orders/{order_id}/confirmation/changes", response_model=ConfirmationDocument)
async def ask_for_changes(order_id: OrderId, body: Reason, intake: Deps, who: Placer) -> ConfirmationDocument:
    """The customer asks for changes (`reason`: what, e.g. "3 instead of 2"); a person confirms
    again once they are made (R2.4). 409 when there is no confirmation to answer."""
    await _own_order(intake, order_id, who)
    doc = await handlers.confirmation(
        intake, order_id, lambda order, at: cf.ask_changes(order, who.name, body.reason, at)
    )
    return confirmation_document(doc)


@router.post("/orders/{order_id}/confirmation", response_model=ConfirmationDocument)
async def confirm_again(order_id: OrderId, body: Reason, intake: Deps, who: Decider) -> ConfirmationDocument:
    """A person sends the next version of the confirmation (after the changes the customer asked
    for); 409 before the order is approved (R2.4)."""
    doc = await handlers.confirmation(
        intake, order_id, lambda order, at: cf.confirm_again(order, who.name, body.reason, at)
    )
    return confirmation_document(doc)


@router.get("/confirmation-breaches", response_model=list[OrderInternal])
async def confirmation_breaches(
    intake: Deps, who: Decider, limit: Annotated[int | None, Query(ge=1, le=1000)] = None
) -> list[OrderInternal]:
    """Orders whose first confirmation was not sent within INTAKE_CONFIRMATION_DUE_H of receipt
    (R2.4), oldest breach first; each is flagged `confirmation_late` with a history line."""
    size = min(limit or intake.settings.page_size, intake.settings.max_page)
    return [order_internal(d) for d in await intake.orders.confirmation_breaches(size, who.customer_filter())]
