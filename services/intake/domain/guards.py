"""The guards of the order saga's table (saga.py): does a row apply to the order as it stands?"""

from __future__ import annotations

from typing import Any

from services.intake.domain import steps
from services.intake.domain.order import Order
from services.intake.domain.reactions import Guard

# --- guards ------------------------------------------------------------------------------------


def credit_awaited(order: Order, e: Any) -> bool:
    return order.saga.steps.get("credit") == "started"


def needs_a_manager(order: Order, e: Any) -> bool:
    """R2.2: a large order waits for a manager after its credit check."""
    return credit_awaited(order, e) and order.needs_approval and order.saga.approved_by is None


def general_manager_next(order: Order, a: Any) -> bool:
    """R2.2's largest orders: after the manager, the general manager."""
    return order.approval_tier == "general_manager" and "manager" not in order.signed_by


def refusal_awaited(order: Order, e: Any) -> bool:
    return credit_awaited(order, e) and not order.saga.credit_forced  # a forced hold cannot be refused


def nothing_short(order: Order, e: Any) -> bool:
    return not e.shortages


def supply_was_raised(order: Order, e: Any) -> bool:
    """A completion of supply this order never asked for (a stray) does nothing (issue 9)."""
    return order.saga.steps.get("supply") is not None


def shipment_not_undone(order: Order, e: Any) -> bool:
    """The carrier took the goods before CancelShipment landed (R7.3): the cancellation fails."""
    return order.saga.steps.get("shipment") in ("started", "done", "compensating")


def new_return(order: Order, e: Any) -> bool:
    return e.return_id not in order.returns


def everything_returned(order: Order, e: Any) -> bool:
    if not new_return(order, e):
        return False
    back = dict(order.returned_quantities)
    for line in e.lines:
        back[line.sku] = back.get(line.sku, 0) + line.quantity
    return all(back.get(sku, 0) >= qty for sku, qty in order.quantities().items())


def compensation_awaited(order: Order, e: Any) -> bool:
    return order.saga.compensating == steps.UNDONE_BY[type(e)]


def invoiced(order: Order, e: Any) -> bool:
    return order.saga.steps.get("invoice") == "done"


def compensations_done(order: Order, e: Any) -> bool:
    return order.saga.compensating is None


def hold_is(kind: str) -> Guard:
    def guard(order: Order, a: Any) -> bool:
        return order.saga.hold == kind

    guard.__name__ = f"{kind}_hold"
    return guard


def both(first: Guard, second: Guard) -> Guard:
    def guard(order: Order, e: Any) -> bool:
        return first(order, e) and second(order, e)

    guard.__name__ = f"{first.__name__}_and_{second.__name__}"
    return guard


def merging(order: Order, e: Any) -> bool:
    """The compensations ran for a merge (R1.8), not a cancellation."""
    return order.saga.outcome == "merged"
