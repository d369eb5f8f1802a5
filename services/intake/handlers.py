"""Intake use cases: place an order, and move its saga on replies and on people's decisions.

Each change loads the order document, lets the saga decide (domain/saga.py), then writes the
new state with the commands it causes staged in the same write and flushes them at once
(ARCHITECTURE.md "Outbox"). A concurrent writer makes the write fail on ``version``: the step
is decided again from a fresh read, which is safe because the saga ignores what it absorbed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from services.intake.adapters import (
    HttpCatalogue,
    HttpCustomers,
    MongoIdempotencyKeys,
    MongoOrderNumbers,
    MongoOrderStore,
)
from services.intake.domain import saga
from services.intake.domain.errors import IdempotencyKeyReused, OrderInvalid, OrderNotFound
from services.intake.domain.numbering import month_key, order_number
from services.intake.domain.order import Order
from services.intake.domain.validation import OrderRequest, validate
from services.intake.settings import Settings
from shared.aggregates import Loaded, NotFound, change
from shared.contracts import Command, DeadlinePassed, Event, Message, ReturnCompleted
from shared.envelope import Envelope, new_envelope, utcnow
from shared.errors import PermanentError
from shared.outbox import Outbox

log = logging.getLogger(__name__)
Doc = dict[str, Any]
PRODUCER = "intake"


@dataclass
class Intake:
    """The handlers' dependencies, built once by bootstrap()."""

    settings: Settings
    orders: MongoOrderStore
    numbers: MongoOrderNumbers
    keys: MongoIdempotencyKeys
    catalogue: HttpCatalogue
    customers: HttpCustomers
    outbox: Outbox

    def now(self) -> datetime:
        # Millisecond precision, as the store keeps it: the POST answer equals a later GET.
        now = utcnow()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


# --- placing (R1) -------------------------------------------------------------------------------


async def place_order(
    intake: Intake, request: OrderRequest, *, idempotency_key: str | None = None, body_hash: str = ""
) -> Doc:
    """Check, number and store a new order, and ask billing for credit; a known key replays its order."""
    if idempotency_key:
        claim = await intake.keys.get(idempotency_key)
        if claim is not None:
            return await _replay(intake, claim, request, body_hash)
    request, catalogue, customer = await _door(intake, request)
    order_id = await _next_order_id(intake)
    if idempotency_key:
        claim = await intake.keys.claim(idempotency_key, body_hash, order_id)
        if claim["order_id"] != order_id:  # a racing twin claimed the key first; our number stays unused
            return await _replay(intake, claim, request, body_hash)
    return await _create(intake, order_id, request, catalogue, customer)


async def _door(intake: Intake, request: OrderRequest) -> tuple[OrderRequest, Any, dict[str, Any]]:
    """Catalogue and customer checks (R1.4, R1.5); every field error at once."""
    skus = [line.sku for line in request.lines if line.sku]
    known_customer = bool(request.customer_id and request.customer_id.strip())
    catalogue, customer = await asyncio.gather(
        intake.catalogue.products(skus),
        intake.customers.get(request.customer_id or "") if known_customer else _none(),
    )
    errors = validate(request, catalogue)
    if known_customer and customer is None:
        errors["customer_id"] = f"unknown customer {request.customer_id}"
    if errors:
        raise OrderInvalid(errors)
    assert customer is not None
    # The customer's agreed terms apply unless the order says otherwise (R3.2).
    request = replace(request, payment_terms=request.payment_terms or customer.get("payment_terms"))
    return request, catalogue, customer


async def _none() -> None:
    return None


async def _next_order_id(intake: Intake) -> str:
    month = month_key(intake.now(), intake.settings.business_timezone)
    return order_number(month, await intake.numbers.next_serial(month))


async def _create(
    intake: Intake, order_id: str, request: OrderRequest, catalogue: Any, customer: dict[str, Any]
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
    )
    envelopes = [new_envelope(command, producer=PRODUCER) for command in commands]
    try:
        doc = await intake.orders.insert(order, envelopes, envelopes[0].trace if envelopes else {})
    except DuplicateKeyError:  # a replay finished the same claimed number first
        existing = await intake.orders.get(order_id)
        assert existing is not None
        return existing
    await intake.outbox.flush(intake.orders.collection, doc)
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


async def _replay(intake: Intake, claim: Doc, request: OrderRequest, body_hash: str) -> Doc:
    """The order an idempotency key already names; finish it if its first request died mid-way."""
    if claim["body_hash"] != body_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different body")
    deadline = asyncio.get_running_loop().time() + intake.settings.idempotency_wait_s
    while asyncio.get_running_loop().time() < deadline:
        doc = await intake.orders.get(claim["order_id"])
        if doc is not None:
            return doc
        await asyncio.sleep(0.05)
    log.warning("idempotency claim without an order: placing it", extra={"order_id": claim["order_id"]})
    request, catalogue, customer = await _door(intake, request)
    return await _create(intake, claim["order_id"], request, catalogue, customer)


# --- changing an order ---------------------------------------------------------------------------


def _trace_id(trace: dict[str, str] | None) -> str:
    parts = (trace or {}).get("traceparent", "").split("-")
    return parts[1] if len(parts) > 2 else ""


def _envelope(command: Command, causation: Envelope | None, doc: Doc) -> Envelope:
    envelope = new_envelope(command, producer=PRODUCER, causation=causation)
    order_trace = doc.get("trace") or {}
    if _trace_id(order_trace) and _trace_id(envelope.trace) != _trace_id(order_trace):
        # One trace per order (ARCHITECTURE.md): a person's action (cancel, approve) or a carrier's
        # report arrives in a trace of its own; what the saga sends next rejoins the order's.
        envelope = envelope.model_copy(update={"trace": order_trace})
    return envelope


async def _change(
    intake: Intake, order_id: str, decide: Callable[[Order], list[Command]], causation: Envelope | None = None
) -> Doc:
    """Load, decide, save with the staged commands, flush; decided again if someone wrote first."""

    def envelopes(commands: Sequence[Message], loaded: Loaded[Order]) -> list[Envelope]:
        return [_envelope(c, causation, loaded.doc) for c in commands]  # type: ignore[arg-type]

    try:
        result = await change(
            intake.orders, order_id, decide, envelopes=envelopes, attempts=intake.settings.write_attempts
        )
    except NotFound as exc:
        raise OrderNotFound(f"no order {order_id}") from exc
    if result.written:
        status, sent = result.loaded.aggregate.status, [type(c).__name__ for c in result.sent]
        log.info("order changed", extra={"order_id": order_id, "status": status, "sent": sent})
    return result.loaded.doc


async def cancel_order(intake: Intake, order_id: str, by: str, reason: str) -> Doc:
    """Cancel an unshipped order (R7.1); a shipped one raises OrderShipped (R7.3)."""
    return await _change(intake, order_id, lambda order: saga.cancel(order, by, reason, intake.now()))


async def approve_order(intake: Intake, order_id: str, by: str, reason: str) -> Doc:
    """A person lets an order on hold continue (R2.2, R3.1)."""
    return await _change(intake, order_id, lambda order: saga.approve(order, by, reason, intake.now()))


async def reject_order(intake: Intake, order_id: str, by: str, reason: str) -> Doc:
    """A person refuses an order on hold (R2.2)."""
    return await _change(intake, order_id, lambda order: saga.reject(order, by, reason, intake.now()))


async def handle_reply(message: Event, envelope: Envelope, intake: Intake) -> None:
    """Every reply of the order saga, dispatched by the saga's TABLE."""

    def decide(order: Order) -> list[Command]:
        return saga.on_reply(order, message, message_id=envelope.message_id, at=intake.now())

    await _on_message(intake, message.order_id, envelope, decide)


async def on_return_completed(message: ReturnCompleted, envelope: Envelope, intake: Intake) -> None:
    """Returned goods were refunded: the order becomes returned or partially returned (R8.3)."""
    await _on_message(
        intake,
        message.order_id,
        envelope,
        lambda order: saga.on_return_completed(order, message, intake.now()),
    )


async def on_deadline_passed(message: DeadlinePassed, envelope: Envelope, intake: Intake) -> None:
    """A timer of the order's saga came due; a deadline for an order that moved on changes nothing."""
    await _on_message(
        intake, message.order_id, envelope, lambda order: saga.on_deadline(order, message.timer, intake.now())
    )


async def _on_message(
    intake: Intake, order_id: str, envelope: Envelope, decide: Callable[[Order], list[Command]]
) -> None:
    try:
        await _change(intake, order_id, decide, causation=envelope)
    except OrderNotFound as exc:
        # Orders are stored before their first command is published, so this is not a race.
        raise PermanentError(f"{envelope.type} for an order intake does not have: {order_id}") from exc
