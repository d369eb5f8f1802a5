"""What people's decisions (R2.2, R3.1, R7.1) and the automatic rows of the saga's table do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.intake.domain import confirmation, steps
from services.intake.domain.order import Order
from services.intake.domain.reactions import Action, Effect, Outcome
from shared.contracts import AbsorbOrder, PricedLine


def force_credit(order: Order, a: Action, at: datetime) -> Outcome:
    """Over the credit limit, a person takes the risk: the credit is held regardless (R3.1)."""
    order.saga.hold, order.saga.approved_by, order.saga.credit_forced = None, a.by, True
    reason = f"approved over the credit limit: {a.reason}"
    return Outcome([steps.reserve_credit(order, force=True)], (reason,))


def approve_large(order: Order, a: Action, at: datetime) -> Outcome:
    """A reviewer (R2.1), a manager or the general manager (R2.2) lets the order go on."""
    order.saga.hold, order.saga.approved_by = None, a.by
    order.claim_by, order.claim_until_ms = None, 0
    confirmation.first_on_approval(order, at)  # R2.4
    return Outcome([steps.reserve_stock(order)], (a.reason,))


def manager_signed(order: Order, a: Action, at: datetime) -> Outcome:
    """The first of two tiers (R2.2): a manager signed; the general manager decides next."""
    order.saga.hold = "general_manager"
    order.signed_by.append("manager")
    order.record("manager_approved", a.by, f"{a.reason}; the general manager decides next (R2.2)", at)
    order.claim_by, order.claim_until_ms = None, 0  # back in the queue for the next tier
    return Outcome()


def begin_compensation(outcome: str) -> Effect:
    """Cancel or reject: every started step is undone, newest first (R7.1)."""

    def begin(order: Order, a: Action, at: datetime) -> Outcome:
        order.saga.hold = None
        order.saga.outcome, order.saga.ended_by, order.saga.end_reason = outcome, a.by, a.reason  # type: ignore[assignment]
        return Outcome(steps.compensate_next(order), (a.reason,))

    begin.__name__ = f"begin_compensation_{outcome}"
    return begin


def completed(order: Order, e: Any, at: datetime) -> Outcome:
    return Outcome(reasons=("delivered and invoiced",))


def cancelled(order: Order, e: Any, at: datetime) -> Outcome:
    return Outcome(reasons=(order.saga.end_reason,), by=order.saga.ended_by or "intake")


def merged(order: Order, e: Any, at: datetime) -> Outcome:
    """Merged into another order (R1.8): everything it held was given back; that order takes its
    lines on (AbsorbOrder, staged with this write: the outbox)."""
    lines = [PricedLine(sku=li.sku, quantity=li.quantity, unit_price=li.unit_price, amount=li.amount)
             for li in order.lines]  # fmt: skip
    into = order.merged_into or ""
    absorb = AbsorbOrder(order_id=into, from_order=order.order_id, lines=lines, reason=order.saga.end_reason)
    return Outcome([absorb], (f"merged into {into}",), by=order.saga.ended_by or "intake")  # type: ignore[list-item]
