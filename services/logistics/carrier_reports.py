"""The carrier's reports about a shipment (R5.3, R5.4), posted over HTTP: recorded once, and what
the rest of the system must hear about them staged in the same write (the outbox)."""

from __future__ import annotations

import logging
from datetime import datetime

from services.logistics.deps import Logistics
from services.logistics.domain import EventOutcome, Shipment
from services.logistics.domain.errors import ShipmentNotFound
from shared.aggregates import Decision, NotFound
from shared.contracts import Message, ShipmentDelayed, ShipmentDelivered, ShipmentDispatched, ShipmentLost
from shared.envelope import to_millis, utcnow

log = logging.getLogger(__name__)


def notice(shipment: Shipment, outcome: EventOutcome) -> list[Message]:
    """What the rest of the system hears about a carrier report (nothing for plain transit scans)."""
    base = {"order_id": shipment.order_id, "shipment_id": shipment.shipment_id}
    at = outcome.event.at.isoformat()
    if outcome.notify == "dispatched":
        return [ShipmentDispatched(**base, tracking_number=shipment.tracking_number, at=at)]
    if outcome.notify == "delivered":
        return [ShipmentDelivered(**base, at=at)]
    if outcome.notify == "delayed":
        return [ShipmentDelayed(**base, note=outcome.event.note)]
    if outcome.notify == "lost":
        return [ShipmentLost(**base, note=outcome.event.note)]
    return []


async def report_event(
    logistics: Logistics, shipment_id: str, type_: str, at: datetime | None, note: str
) -> tuple[Shipment, bool]:
    """Apply a carrier's report (R5.3, R5.4); False when it repeats one already recorded.

    A report that does not fit the shipment raises InvalidTransition (HTTP 409) and writes nothing.
    """
    when = to_millis(at or utcnow())  # as stored: a resent report compares equal

    def record(shipment: Shipment) -> Decision:
        if shipment.tombstone:  # a cancellation before any booking is no shipment to report on
            raise ShipmentNotFound(f"no shipment {shipment_id}")
        outcome = shipment.record(type_, when, note, at_given=at is not None)
        return notice(shipment, outcome) if outcome.recorded else []  # a repeat changes nothing

    try:
        result = await logistics.change_by_id(shipment_id, record)
    except NotFound as exc:
        raise ShipmentNotFound(f"no shipment {shipment_id}") from exc
    shipment = result.loaded.aggregate
    if result.written:
        log.info("carrier event recorded", extra={"order_id": shipment.order_id, "shipment_id": shipment_id,
                                                  "event": type_, "status": shipment.status})  # fmt: skip
    return shipment, result.written
