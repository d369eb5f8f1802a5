"""Logistics' commands: book a carrier (R5.1, R5.2) and cancel before dispatch (R7.1).

Each is a decision on the order's shipment through ``Logistics.change_or_insert``: the first
command for an order inserts the shipment (or, for a cancellation that came first, a tombstone);
every later one is decided on what is stored. A duplicate writes nothing and is answered again
under the same message id (ARCHITECTURE.md "Duplicates").
"""

from __future__ import annotations

import logging
import secrets
import uuid

from services.logistics.deps import Logistics
from services.logistics.domain import CannotCancel, Consignee, Shipment, tracking_number
from shared.aggregates import Again, Decision
from shared.contracts import (
    CancelShipment,
    CreateShipment,
    Message,
    OrderConfirmed,
    ShipmentCancelled,
    ShipmentCreated,
)
from shared.envelope import Envelope, utcnow

log = logging.getLogger(__name__)


def created(shipment: Shipment) -> ShipmentCreated:
    return ShipmentCreated(
        order_id=shipment.order_id,
        shipment_id=shipment.shipment_id,
        carrier=shipment.carrier,
        mode=shipment.mode,
        tracking_number=shipment.tracking_number,
    )


def new_shipment_id() -> str:
    return f"SH{uuid.uuid4().hex[:12].upper()}"


async def create_shipment(cmd: CreateShipment, env: Envelope, logistics: Logistics) -> None:
    """Book one carrier per order by the rules (R5.1) with a tracking number (R5.2); idempotent."""

    def book() -> tuple[Shipment, list[Message]]:
        booking = logistics.rules.choose(cmd.amount, cmd.delivery_address)
        shipment = Shipment.book(
            new_shipment_id(),
            cmd.order_id,
            carrier=booking.carrier,
            mode=booking.mode,
            tracking_number=tracking_number(booking.carrier, secrets.randbelow(10**12)),
            consignee=Consignee(cmd.contact_name, cmd.delivery_address),
            lines=tuple((ln.sku, ln.quantity) for ln in cmd.lines),
            amount=cmd.amount,
            at=utcnow(),
        )
        return shipment, [created(shipment)]

    def booked_already(shipment: Shipment) -> Decision:
        # After its cancellation (a tombstone) the saga expects no reply; a duplicate gets it again.
        return [] if shipment.tombstone else Again([created(shipment)])

    result = await logistics.change_or_insert(cmd.order_id, booked_already, book, env)
    shipment = result.loaded.aggregate
    if result.written:
        log.info("shipment booked", extra={"shipment_id": shipment.shipment_id, "carrier": shipment.carrier,
                                           "mode": shipment.mode})  # fmt: skip
    elif shipment.tombstone:
        log.info("booking arrived after its cancellation: ignored")


async def cancel_shipment(cmd: CancelShipment, env: Envelope, logistics: Logistics) -> None:
    """Cancel the booking before dispatch (R7.1); once the goods left, log and reply nothing."""
    now = utcnow()

    def tombstone() -> tuple[Shipment, list[Message]]:
        # Nothing booked yet: remember the cancellation so that the late booking does nothing.
        shipment = Shipment.tombstone_for(new_shipment_id(), cmd.order_id, now)
        return shipment, [ShipmentCancelled(order_id=cmd.order_id, shipment_id=None)]

    def cancel(shipment: Shipment) -> Decision:
        try:
            cancelled_now = shipment.cancel(now, "order cancelled")
        except CannotCancel:
            # Documented choice: no reply. The saga hears ShipmentDispatched instead and turns the
            # cancellation into a return (R7.3); replying "cancelled" here would be a lie.
            return []
        shipment_id = None if shipment.tombstone else shipment.shipment_id
        reply = [ShipmentCancelled(order_id=cmd.order_id, shipment_id=shipment_id)]
        return reply if cancelled_now else Again(reply)

    result = await logistics.change_or_insert(cmd.order_id, cancel, tombstone, env)
    if not result.sent:
        status = result.loaded.aggregate.status
        log.warning("cancellation refused: goods already left", extra={"status": status})


async def note_booking_request(msg: OrderConfirmed, env: Envelope, logistics: Logistics) -> None:
    """Logistics is told of an accepted order (R2.5): a carrier booking request with the carrier
    and mode the rules choose (R5.1); the shipment itself is booked by CreateShipment. Kept once."""
    booking = logistics.rules.choose(msg.amount, msg.delivery_address)
    body = {"carrier": booking.carrier, "mode": booking.mode, "delivery_address": msg.delivery_address,
            "contact_name": msg.contact_name, "required_by": msg.required_by, "priority": msg.priority,
            "units": sum(line.quantity for line in msg.lines)}  # fmt: skip
    await logistics.notices.record("carrier_booking", msg.order_id, body, utcnow())
