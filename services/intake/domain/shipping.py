"""Effects of the saga's shipping rows (R5, R6.1, R7.3): booking, dispatch, delivery, invoicing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.intake.domain import steps
from services.intake.domain.order import Order
from services.intake.domain.reactions import Effect, Outcome, note


def _record_tracking(order: Order, shipment_id: str, tracking_number: str) -> bool:
    """Remember the order's shipment and a new tracking number; a report about another shipment
    (an order has one) never replaces it: it is flagged for a person (issue 9)."""
    if order.shipment_id is not None and shipment_id != order.shipment_id:
        order.flag("unknown_shipment_reported")
        return False
    order.shipment_id = shipment_id
    if tracking_number and tracking_number not in order.tracking_numbers:
        order.tracking_numbers.append(tracking_number)
        return True
    return False


def shipment_booked(order: Order, e: Any, at: datetime) -> Outcome:
    if _record_tracking(order, e.shipment_id, e.tracking_number):
        order.carrier = e.carrier
        if order.saga.steps.get("shipment") == "started":
            order.saga.steps["shipment"] = "done"
        note(order, e, f"{e.carrier} {e.mode}, tracking {e.tracking_number}", at)
    return Outcome()


def dispatched(order: Order, e: Any, at: datetime) -> Outcome:
    _record_tracking(order, e.shipment_id, e.tracking_number)
    return Outcome(steps.ship(order), (f"dispatched, tracking {e.tracking_number}",))


def delivered(order: Order, e: Any, at: datetime) -> Outcome:
    return Outcome(reasons=(f"signed for at {e.at}",))


def delivered_unannounced(order: Order, e: Any, at: datetime) -> Outcome:
    """The dispatch report was lost or overtaken: the goods shipped, then were signed for (R5.4)."""
    return Outcome(steps.ship(order), ("delivered without a dispatch report", f"signed for at {e.at}"))


def cancellation_overtaken(effect: Effect) -> Effect:
    """Newest first means nothing older was undone yet: the order ships and needs a return (R7.3)."""

    def overtaken(order: Order, e: Any, at: datetime) -> Outcome:
        order.saga.compensating = order.saga.outcome = None
        order.record("cancellation_failed", "logistics", "goods already dispatched: request a return", at)
        return effect(order, e, at)

    overtaken.__name__ = f"overtaken_{effect.__name__}"
    return overtaken


def shipment_delayed(order: Order, e: Any, at: datetime) -> Outcome:
    order.flag("shipment_delayed")  # a person must tell the customer within the hour (R5.3)
    note(order, e, f"delayed: {e.note}" if e.note else "delayed", at)
    return Outcome()


def shipment_lost(order: Order, e: Any, at: datetime) -> Outcome:
    """The parcel is lost: a person re-ships or refunds within the hour (R5.3); the order stays shipped."""
    if "shipment_lost" not in order.flags:
        order.flag("shipment_lost")
        note(order, e, f"lost: {e.note}" if e.note else "lost", at)
    return Outcome()


def stock_committed(order: Order, e: Any, at: datetime) -> Outcome:
    if order.saga.steps.get("commit") != "done":
        order.saga.steps["commit"] = "done"
        note(order, e, "", at)
    return Outcome()


def invoice_issued(order: Order, e: Any, at: datetime) -> Outcome:
    if e.invoice_id not in order.invoice_ids:
        order.invoice_ids.append(e.invoice_id)
        order.saga.steps["invoice"] = "done"
        note(order, e, f"{e.invoice_id}: total {e.total}, tax {e.tax}", at)
    return Outcome()
