"""Placing an order at the door (R1): check it against the catalogue and the customer, number it,
store it with its first command staged, and answer a retried request with the order it made."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from services.intake.deps import Intake
from services.intake.domain import saga
from services.intake.domain.confirmation import CONFIRMATION_TIMER
from services.intake.domain.errors import IdempotencyKeyReused, OrderInvalid
from services.intake.domain.numbering import month_key, order_number
from services.intake.domain.order import Order
from services.intake.domain.validation import OrderRequest, validate
from shared.aggregates import Loaded
from shared.contracts import DeadlinePassed
from shared.envelope import new_envelope
from shared.idempotency import Claim

log = logging.getLogger(__name__)
Doc = dict[str, Any]


async def place_order(
    intake: Intake, request: OrderRequest, *, idempotency_key: str | None = None, body_hash: str = "",
    placed_by: str = "intake",
) -> Doc:
    """Check, number and store a new order, and ask billing for credit; a known key replays its order.
    ``placed_by`` (the caller's key name, issue 7) is who the history says placed it."""
    if len(request.lines) > intake.settings.max_lines:  # before the catalogue is asked for every SKU
        limit = intake.settings.max_lines
        raise OrderInvalid({"lines": f"at most {limit} lines per order, not {len(request.lines)}"})
    if idempotency_key:
        claim = await intake.keys.get(idempotency_key)
        if claim is not None:
            return await _replay(intake, claim, request, body_hash, placed_by)
    request, catalogue, customer = await _door(intake, request)
    order_id = await _next_order_id(intake)
    if idempotency_key:
        claim = await intake.keys.claim(idempotency_key, body_hash, order_id)
        if claim.target != order_id:  # a racing twin claimed the key first; our number stays unused
            return await _replay(intake, claim, request, body_hash, placed_by)
    return await _create(intake, order_id, request, catalogue, customer, placed_by)


async def _door(intake: Intake, request: OrderRequest) -> tuple[OrderRequest, Any, dict[str, Any]]:
    """Catalogue and customer checks (R1.4, R1.5); every field error at once."""
    skus = [line.sku for line in request.lines if line.sku]
    known_customer = bool(request.customer_id and request.customer_id.strip())
    catalogue, customer = await asyncio.gather(
        intake.catalogue.products(skus),
        intake.customers.get(request.customer_id or "") if known_customer else _none(),
    )
    policy = intake.settings.policy
    today = intake.now().astimezone(ZoneInfo(intake.settings.business_timezone)).date()
    errors = validate(request, catalogue, today=today, date_optional=policy.date_optional_channels)
    if known_customer and customer is None:
        errors["customer_id"] = f"unknown customer {request.customer_id}"
    if errors:
        raise OrderInvalid(errors)
    assert customer is not None
    # The customer's agreed terms apply unless the order says otherwise (R3.2).
    terms = request.payment_terms or customer.get("payment_terms") or "credit"
    request = replace(request, payment_terms=terms)
    return request, catalogue, customer


async def _none() -> None:
    return None


async def _next_order_id(intake: Intake) -> str:
    month = month_key(intake.now(), intake.settings.business_timezone)
    return order_number(month, await intake.numbers.next_serial(month))


async def _create(
    intake: Intake, order_id: str, request: OrderRequest, catalogue: Any, customer: dict[str, Any],
    placed_by: str = "intake",
) -> Doc:
    now = intake.now()
    today = now.astimezone(ZoneInfo(intake.settings.business_timezone)).date()
    past = await intake.orders.recent_for_customer(
        request.customer_id or "", intake.settings.screening_history
    )
    order, commands = saga.place(
        order_id,
        request,
        catalogue,
        customer_name=str(customer.get("name") or ""),
        policy=intake.settings.policy,
        today=today,
        at=now,
        past=past,
        by=placed_by,
    )
    envelopes = [new_envelope(command, producer=intake.settings.service_name) for command in commands]
    await _schedule_confirmation_deadline(intake, order)
    try:
        doc = await intake.orders.insert(order, envelopes, envelopes[0].trace if envelopes else {})
    except DuplicateKeyError:  # a replay finished the same claimed number first
        existing = await intake.orders.get(order_id)
        assert existing is not None
        return existing
    await intake.orders.flush(Loaded(order, doc))
    log.info(
        "order placed",
        extra={
            "order_id": order_id,
            "channel": order.channel,
            "total": order.total,
            "priority": order.priority,
            "flags": order.flags,
        },
    )
    return doc


async def _schedule_confirmation_deadline(intake: Intake, order: Order) -> None:
    """The first confirmation's deadline (R2.4), scheduled before the order is stored: a crash in
    between leaves a timer for an order that does not exist, which does nothing when it fires."""
    due = order.confirmation.due_at
    if intake.timers is None or due is None:
        return
    timer = DeadlinePassed(order_id=order.order_id, timer=CONFIRMATION_TIMER, due_at=due.isoformat())
    await intake.timers.schedule(f"{order.order_id}:{CONFIRMATION_TIMER}", due, timer)


async def _replay(
    intake: Intake, claim: Claim, request: OrderRequest, body_hash: str, placed_by: str = "intake"
) -> Doc:
    """The order an idempotency key already names; finish it if its first request died mid-way."""
    if claim.fingerprint != body_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different body")
    deadline = asyncio.get_running_loop().time() + intake.settings.idempotency_wait_s
    while asyncio.get_running_loop().time() < deadline:
        doc = await intake.orders.get(claim.target)
        if doc is not None:
            return doc
        await asyncio.sleep(0.05)
    log.warning("idempotency claim without an order: placing it", extra={"order_id": claim.target})
    request, catalogue, customer = await _door(intake, request)
    return await _create(intake, claim.target, request, catalogue, customer, placed_by)
