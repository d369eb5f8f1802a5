"""What the order saga does when a row of its table fires (saga.py), for credit, stock, supply,
returns and compensations; shipping.py and decisions.py hold the others.

An effect records what the order learned and returns the commands it sends with the reasons for
the status changes the row makes. No effect sets a status: the table does (issue 6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.intake.domain import confirmation, steps
from services.intake.domain.order import Order, SupplyOrder
from shared.contracts import Command, Event, ReceiveSupply


@dataclass(frozen=True)
class Action:
    """A person's decision (approve, reject, cancel): who, and why (R9.3)."""

    by: str
    reason: str


@dataclass
class Outcome:
    """What an effect sends, and the reason (and, if not the row's, the author) of each status entered."""

    commands: list[Command] = field(default_factory=list)
    reasons: tuple[str, ...] = ()
    by: str | None = None


Guard = Callable[[Order, Any], bool]
Effect = Callable[[Order, Any, datetime], Outcome]


def note(order: Order, e: Event, reason: str, at: datetime) -> None:
    """Record a reply in the history under its message type, by the service that sent it (R9.3)."""
    order.record(type(e).__name__, e.SERVICE, reason, at)


def summary(e: Event) -> str:
    return ", ".join(f"{k}={v}" for k, v in e.model_dump(mode="json", exclude={"order_id"}).items())


# --- effects -----------------------------------------------------------------------------------


def hold_for_approval(order: Order, e: Any, at: datetime) -> Outcome:
    """R2.1: the order waits in the review queue for a reviewer (flags) or a manager (R2.2)."""
    order.saga.steps["credit"] = "done"
    note(order, e, _credit_reason(e), at)
    if order.approval_tier == "review":
        order.saga.hold = "review"
        why = f"flagged ({', '.join(order.flags)}): a reviewer decides (R2.1)"
    else:
        order.saga.hold = "approval"
        why = "; ".join(order.approval_reasons) or f"total {order.total} needs a manager's approval (R2.2)"
    return Outcome(reasons=(why,), by="intake")


def credit_held(order: Order, e: Any, at: datetime) -> Outcome:
    order.saga.steps["credit"] = "done"
    rule = "" if order.saga.approved_by else "; reviewed by rule: no flag, nothing R2.2 names (R2.1)"
    confirmation.first_on_approval(order, at)  # R2.4
    return Outcome([steps.reserve_stock(order)], (_credit_reason(e) + rule,))


def _credit_reason(e: Any) -> str:
    return "prepaid: no credit check" if e.skipped else f"credit held, exposure {e.exposure}"


def credit_refused(order: Order, e: Any, at: datetime) -> Outcome:
    order.saga.steps["credit"] = "failed"  # nothing is held, so nothing to give back
    order.saga.hold = "credit"
    return Outcome(reasons=(e.reason or f"exposure {e.exposure} over limit {e.credit_limit}",))


def stock_held(order: Order, e: Any, at: datetime) -> Outcome:
    order.saga.steps["stock"] = "done"
    return Outcome([steps.create_shipment(order)], ("every line is reserved",))


def stock_short(order: Order, e: Any, at: datetime) -> Outcome:
    short = ", ".join(f"{s.sku} x{s.quantity}" for s in e.shortages)
    return Outcome([steps.raise_supply(order, e)], (f"short: {short}",))


def remember_supply(order: Order, ref: Any) -> None:
    """Intake's record of a supply order as fulfillment names it, its status as intake knew it."""
    known = order.supply_orders.get(ref.supply_order_id)
    fresh = SupplyOrder(**ref.model_dump())
    if known is not None:
        fresh.status = known.status
    order.supply_orders[ref.supply_order_id] = fresh


def supply_raised(order: Order, e: Any, at: datetime) -> Outcome:
    # A supply order the completion told us of first (reordered replies, issue 9) is a stub
    # without kind or date: filled in here, its status kept.
    stubs = {so_id for so_id, so in order.supply_orders.items() if not so.kind}
    new = [
        ref
        for ref in e.supply_orders
        if ref.supply_order_id not in order.supply_orders or ref.supply_order_id in stubs
    ]
    if order.saga.steps.get("supply") == "started":
        order.saga.steps["supply"] = "done"
    for ref in new:
        remember_supply(order, ref)
    if new:
        note(order, e, ", ".join(f"{r.kind} {r.supply_order_id}" for r in new), at)
        _update_expected_delivery(order, at)
    return Outcome()


def _update_expected_delivery(order: Order, at: datetime) -> None:
    """The order's expected delivery is the latest supply arrival; a slip past the need is flagged (R4.2)."""
    dates = [date.fromisoformat(so.expected_at[:10]) for so in order.supply_orders.values() if so.expected_at]
    if not dates or max(dates) == order.expected_delivery:
        return
    order.expected_delivery = max(dates)
    reason = f"expected delivery {order.expected_delivery.isoformat()}"
    if order.required_by is not None and order.expected_delivery > order.required_by:
        order.flag("late_delivery")
        reason += f", after the required {order.required_by.isoformat()}: tell the customer"
    order.record("expected_delivery_updated", "intake", reason, at)


def supply_completed(order: Order, e: Any, at: datetime) -> Outcome:
    known = order.supply_orders.get(e.supply_order_id)
    if known is not None and known.status != "raised":
        return Outcome()
    if known is None:  # the completion overtook SupplyRaised: remember it all the same
        known = order.supply_orders[e.supply_order_id] = SupplyOrder(
            supply_order_id=e.supply_order_id, kind="", sku=e.sku, quantity=e.quantity, expected_at=""
        )
    known.status = "completed"
    if order.status == "awaiting_stock":
        order.saga.steps["supply"] = "done"
    # After a cancellation the goods are still received: they are kept as stock (R7.1).
    note(order, e, f"{e.supply_order_id}: {e.sku} x{e.quantity}", at)
    receive = ReceiveSupply(
        order_id=order.order_id, supply_order_id=e.supply_order_id, sku=e.sku, quantity=e.quantity
    )
    return Outcome([receive])


def stock_received(order: Order, e: Any, at: datetime) -> Outcome:
    known = order.supply_orders.get(e.supply_order_id)
    if known is not None and known.status != "received":
        known.status = "received"
        note(order, e, f"{e.supply_order_id}: {e.sku} x{e.quantity}", at)
    return Outcome()


def return_completed(order: Order, e: Any, at: datetime) -> Outcome:
    order.returns[e.return_id] = "completed"
    order.credit_notes.append(
        {"credit_note_id": e.credit_note_id, "return_id": e.return_id, "total": e.refund_total}
    )
    for line in e.lines:
        order.returned_quantities[line.sku] = order.returned_quantities.get(line.sku, 0) + line.quantity
    return Outcome(reasons=(f"return {e.return_id}, credit note {e.credit_note_id}",))


def return_rejected(order: Order, e: Any, at: datetime) -> Outcome:
    if e.return_id not in order.returns:
        order.returns[e.return_id] = "rejected"
        note(order, e, f"{e.return_id}: {e.reason}", at)
    return Outcome()


def compensated(order: Order, e: Any, at: datetime) -> Outcome:
    order.saga.steps[steps.UNDONE_BY[type(e)]] = "compensated"
    note(order, e, summary(e), at)
    commands = steps.compensate_next(order)
    if not commands and order.status == "rejected":
        order.record("compensation_completed", "intake", "every started step was undone", at)
    return Outcome(commands)
