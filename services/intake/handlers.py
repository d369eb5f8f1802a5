"""Intake's handlers: the order saga moved on by replies, deadlines and people's decisions.

Each change goes through ``shared.aggregates.change``: load the order, let the saga decide
(domain/saga.py), write the new state with the commands it causes staged in the same write and
flush them (ARCHITECTURE.md "Outbox"); a lost race is decided again from a fresh read, and a
reply that changes nothing writes nothing. Placing an order is placing.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.intake.adapters.mapping import from_doc
from services.intake.deps import Intake
from services.intake.domain import payment, review, saga, stuck
from services.intake.domain.errors import OrderNotFound
from services.intake.domain.order import Order, epoch_ms
from services.intake.placing import place_order
from shared.aggregates import Loaded, NotFound, change
from shared.contracts import AbsorbOrder, Command, DeadlinePassed, Event, Message, MessageParked
from shared.envelope import Envelope, new_envelope
from shared.errors import PermanentError

log = logging.getLogger(__name__)
Doc = dict[str, Any]
__all__ = ["Intake", "place_order"]  # re-exported: the use cases of the service in one import


def _trace_id(trace: dict[str, str] | None) -> str:
    parts = (trace or {}).get("traceparent", "").split("-")
    return parts[1] if len(parts) > 2 else ""


def _envelope(command: Command, causation: Envelope | None, doc: Doc) -> Envelope:
    envelope = new_envelope(command, producer="intake", causation=causation)
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
    await _ensure_timers(intake, result.loaded.aggregate, causation)
    return result.loaded.doc


async def _ensure_timers(intake: Intake, order: Order, causation: Envelope | None) -> None:
    """Schedule the timers the order's wait needs (R3.2: reminders, expiry), idempotent by key.

    After the write, and again on every message of a waiting order: a crash between the write and
    the scheduling is repaired by the redelivered message, which finds the order waiting.
    """
    if intake.timers is None:
        return
    for key, due_at, purpose in payment.timers(order):
        deadline = DeadlinePassed(order_id=order.order_id, timer=purpose, due_at=due_at.isoformat())
        await intake.timers.schedule(key, due_at, deadline, causation=causation)


async def check_payment(intake: Intake, order_id: str, by: str, reason: str) -> Doc:
    """Finance checked the order's letter of credit (R3.2); an order waiting for it goes on."""
    return await _change(intake, order_id, lambda order: saga.check_payment(order, by, reason, intake.now()))


async def cancel_order(intake: Intake, order_id: str, by: str, reason: str) -> Doc:
    """Cancel an unshipped order (R7.1); a shipped one raises OrderShipped (R7.3)."""
    return await _change(intake, order_id, lambda order: saga.cancel(order, by, reason, intake.now()))


async def approve_order(
    intake: Intake, order_id: str, by: str, reason: str, tiers: frozenset[str] = saga.TIERS
) -> Doc:
    """A person lets an order on hold continue (R2.1, R2.2, R3.1); ``tiers`` the caller may give."""
    return await _change(intake, order_id, lambda order: saga.approve(order, by, reason, intake.now(), tiers))


async def reject_order(
    intake: Intake, order_id: str, by: str, reason: str, tiers: frozenset[str] = saga.TIERS
) -> Doc:
    """A person refuses an order on hold (R2.2)."""
    return await _change(intake, order_id, lambda order: saga.reject(order, by, reason, intake.now(), tiers))


async def confirmation(intake: Intake, order_id: str, act: Callable[[Order, datetime], Any]) -> Doc:
    """A customer's answer to the order confirmation, or a person's new version of it (R2.4); an
    acceptance tells finance, the warehouse and logistics (R2.5) in the same write (outbox)."""

    def decide(order: Order) -> list[Command]:
        return list(act(order, intake.now()) or [])

    return await _change(intake, order_id, decide)


async def claim_orders(intake: Intake, by: str, count: int) -> list[Doc]:
    """Claim up to ``count`` orders of the review queue for ``by`` (R2.3), highest priority and
    oldest first; an order another reviewer wins meanwhile is skipped (optimistic version)."""
    now, ttl = intake.now(), intake.settings.claim_ttl_s
    claimed: list[Doc] = []
    for doc in await intake.orders.review_queue(count * 2 + 5, claimable_at_ms=epoch_ms(now)):
        if len(claimed) >= count:
            break
        changed = await _change(intake, doc["_id"], _claim(by, now, ttl))
        if changed.get("claim_by") == by and from_doc(changed).claim_until_ms > epoch_ms(now):
            claimed.append(changed)
    return claimed


def _claim(by: str, now: datetime, ttl: float) -> Callable[[Order], list[Command]]:
    def take(order: Order) -> list[Command]:
        review.claim(order, by, now, ttl)
        return []

    return take


async def release_order(intake: Intake, order_id: str, by: str) -> Doc:
    """Put a claimed order back in the review queue (R2.3)."""

    def give_back(order: Order) -> list[Command]:
        review.release(order, by, intake.now())
        return []

    return await _change(intake, order_id, give_back)


async def handle_reply(message: Event, envelope: Envelope, intake: Intake) -> None:
    """Every reply of the order saga, dispatched by the saga's TABLE."""

    def decide(order: Order) -> list[Command]:
        return saga.on_reply(order, message, message_id=envelope.message_id, at=intake.now())

    await _on_message(intake, message.order_id, envelope, decide)


async def on_deadline_passed(message: DeadlinePassed, envelope: Envelope, intake: Intake) -> None:
    """A timer of the order's saga came due; a deadline for an order that moved on changes nothing,
    nor one for an order that was never stored (its placing died after scheduling it)."""
    if await intake.orders.get(message.order_id) is None:
        log.warning("deadline of an order intake does not have", extra={"timer": message.timer})
        return
    await _on_message(
        intake, message.order_id, envelope, lambda order: saga.on_deadline(order, message, intake.now())
    )


async def absorb_order(message: AbsorbOrder, envelope: Envelope, intake: Intake) -> None:
    """An order merged into this one gave back what it held: this one takes its lines on (R1.8)."""
    await _on_message(
        intake, message.order_id, envelope, lambda order: saga.on_absorbed(order, message, intake.now())
    )


async def merge_orders(intake: Intake, into_id: str, other_id: str, by: str, reason: str) -> Doc:
    """Merge ``other_id`` into ``into_id`` (R1.8): the other order is written first (it begins to
    give back what it holds and ends ``merged``, handing its lines on through the outbox), then
    this one waits for them; a crash between the two is repaired when the lines arrive."""
    into_doc = await intake.orders.get(into_id)
    if into_doc is None:
        raise OrderNotFound(f"no order {into_id}")
    into = from_doc(into_doc)
    other = from_doc(
        await _change(intake, other_id, lambda order: saga.merge_away(order, into, by, reason, intake.now()))
    )
    return await _change(intake, into_id, lambda order: saga.merge_in(order, other, by, reason, intake.now()))


async def message_parked(message: MessageParked, envelope: Envelope, intake: Intake) -> None:
    """A service parked a message of the order: mark it stuck (issue 7); its status stays."""
    try:
        await _change(intake, message.order_id, lambda order: stuck.mark(order, message, intake.now()),
                      causation=envelope)  # fmt: skip
    except OrderNotFound:  # e.g. a message about an order that was never placed: nothing to mark
        log.warning("parked message of an order intake does not have",
                    extra={"parked_type": message.message_type, "service": message.service})  # fmt: skip
        return
    log.warning("order stuck: a message of it is parked",
                extra={"parked_type": message.message_type, "service": message.service})  # fmt: skip


async def _on_message(
    intake: Intake, order_id: str, envelope: Envelope, decide: Callable[[Order], list[Command]]
) -> None:
    def moved_on(order: Order) -> list[Command]:
        steps_before = dict(order.saga.steps)
        commands = decide(order)
        if order.stuck:  # what this message moved the order past is not stuck any more (issue 7)
            stuck.clear_passed(order, envelope.message_id, envelope.causation_id, steps_before, intake.now())
        return commands

    try:
        await _change(intake, order_id, moved_on, causation=envelope)
    except OrderNotFound as exc:
        # Orders are stored before their first command is published, so this is not a race.
        raise PermanentError(f"{envelope.type} for an order intake does not have: {order_id}") from exc
