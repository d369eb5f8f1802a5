"""An order with a parked message is stuck (issue 7): marked and shown, never moved.

When a service parks a command or reply of an order (shared/bus/delivery.py), it reports
``MessageParked``; the order then carries a mark naming the step, the message, the service whose
parking queue holds it, the error and since when, plus a history event. The mark changes no
status and sends nothing: it is not a row of the saga's table. It is cleared when the order moves
on past it: the parked message itself is absorbed (a person replayed a parked reply), a reply to
it arrives (a person replayed a parked command), or, for a step's command or compensation, the
step is done or undone after all (another copy went through, or the order was cancelled).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.intake.domain.order import Order, Stuck
from services.intake.domain.steps import STEPS
from shared import contracts as c

PARKED_EVENT = "MessageParked"  # the history's events of a mark and of its end (internal only)
CLEARED_EVENT = "stuck_cleared"
INTERNAL_EVENTS = frozenset({PARKED_EVENT, CLEARED_EVENT})
SETTLED = frozenset({"done", "compensated"})


# The saga step each message belongs to: its command, its compensation and their replies.
_REPLIES: dict[str, tuple[type[c.Message], ...]] = {
    "credit": (c.CreditReserved, c.CreditLimitExceeded),
    "stock": (c.StockReserved, c.StockShort),
    "supply": (c.SupplyRaised, c.SupplyCompleted, c.ReceiveSupply, c.StockReceived),
    "shipment": (
        c.ShipmentCreated,
        c.ShipmentDispatched,
        c.ShipmentDelivered,
        c.ShipmentDelayed,
        c.ShipmentLost,
    ),
    "commit": (c.StockCommitted,),
    "invoice": (c.InvoiceIssued,),
    "return": (
        c.RestockReturn,
        c.ReturnRestocked,
        c.IssueCreditNote,
        c.CreditNoteIssued,
        c.ReturnCompleted,
        c.ReturnRejected,
    ),
    "deadline": (c.DeadlinePassed,),
}
STEP_OF: dict[str, str] = {
    **{m.__name__: step for step, messages in _REPLIES.items() for m in messages},
    **{m.__name__: s.name for s in STEPS for m in (s.command, s.compensation, s.compensated_by) if m},
}


# The messages whose step settling means they are not needed any more: its command (answered by
# another copy) and its compensation. A reply or a per-supply-order message waits for its replay.
SETTLED_BY_STEP: dict[str, str] = {
    m.__name__: s.name for s in STEPS for m in (s.command, s.compensation) if m is not None
}


def step_of(message_type: str) -> str:
    """The step a message type belongs to (``supply`` for RaiseSupply), else the type itself."""
    return STEP_OF.get(message_type, message_type)


def mark(order: Order, parked: c.MessageParked, at: datetime) -> list[c.Command]:
    """Record that a message of the order is parked; a repeated report of it changes nothing."""
    known = next((s for s in order.stuck if s.message_id == parked.message_id), None)
    if known is not None:
        return []
    step = step_of(parked.message_type)
    order.stuck.append(
        Stuck(parked.message_id, parked.message_type, step, parked.service, parked.error, at, parked.attempts)
    )
    tries = f"after {parked.attempts} attempts" if parked.attempts > 1 else "at once"
    reason = f"{parked.message_type} ({step}) parked by {parked.service} {tries}: {parked.error}"
    order.record(PARKED_EVENT, parked.service, reason, at)
    return []


def clear_passed(
    order: Order, message_id: str, causation_id: str | None, steps_before: Mapping[str, str], at: datetime
) -> None:
    """Clear the marks the message just absorbed (``message_id``, caused by ``causation_id``) moved
    the order past; ``steps_before`` is the saga's step statuses before it was absorbed."""
    for entry in list(order.stuck):
        why = _passed(order, entry, message_id, causation_id, steps_before)
        if why:
            order.stuck.remove(entry)
            order.record(CLEARED_EVENT, "intake", f"{entry.message_type} ({entry.step}): {why}", at)


def _passed(
    order: Order, entry: Stuck, message_id: str, causation_id: str | None, steps_before: Mapping[str, str]
) -> str:
    if entry.message_id == message_id:
        return "went through on replay"
    if entry.message_id and entry.message_id == causation_id:
        return "answered after a replay"
    step = SETTLED_BY_STEP.get(entry.message_type)
    now = order.saga.steps.get(step) if step else None
    if step and now in SETTLED and steps_before.get(step) != now:
        return f"the {step} step is {now} now"
    return ""
