"""Logistics' commands: book a carrier (R5.1, R5.2), cancel before dispatch (R7.1), and hold a
booked shipment while its order changes, then book it again (issue 8, R7.2).

Each is a decision on the order's shipment through ``Logistics.change_or_insert``: the first
command for an order inserts the shipment (or, for a cancellation that came first, a tombstone);
every later one is decided on what is stored. A hold is decided on the stored shipment only
(``Logistics.change``): with none there is nothing to hold, and that is answered without a write.
A duplicate writes nothing and is answered again under the same message id (ARCHITECTURE.md
"Duplicates").
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import TypedDict

from services.logistics.deps import Logistics
from services.logistics.domain import HELD, CannotCancel, CannotHold, Consignee, Shipment, tracking_number
from shared.aggregates import Again, Decision, NotFound
from shared.contracts import (
    CancelShipment,
    CreateShipment,
    HoldShipment,
    Message,
    OrderConfirmed,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentHeld,
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


class Terms(TypedDict):
    """What a booking, first or again, takes from CreateShipment and the rules (R5.1, R5.2)."""

    carrier: str
    mode: str
    tracking_number: str
    consignee: Consignee
    lines: tuple[tuple[str, int], ...]
    amount: int
    at: datetime


def new_shipment_id() -> str:
    return f"SH{uuid.uuid4().hex[:12].upper()}"


def new_tracking_number(carrier: str, *, not_: str = "") -> str:
    """A random tracking number of ``carrier`` (R5.2); never ``not_``, the one a rebooking replaces."""
    while (number := tracking_number(carrier, secrets.randbelow(10**12))) == not_:
        pass
    return number


async def create_shipment(cmd: CreateShipment, env: Envelope, logistics: Logistics) -> None:
    """Book one carrier per order by the rules (R5.1) with a tracking number (R5.2); idempotent.

    With a new ``booking`` key for a held shipment (its order changed, R7.2) the same shipment is
    booked again: carrier and mode by the rules on the new amount and address, always a new
    tracking number, and ShipmentCreated as for a first booking. A key already booked is a
    redelivery: answered again, or - while a later change holds the shipment - not at all."""

    def terms(replacing: str = "") -> Terms:
        booking = logistics.rules.choose(cmd.amount, cmd.delivery_address)
        return Terms(
            carrier=booking.carrier,
            mode=booking.mode,
            tracking_number=new_tracking_number(booking.carrier, not_=replacing),
            consignee=Consignee(cmd.contact_name, cmd.delivery_address),
            lines=tuple((ln.sku, ln.quantity) for ln in cmd.lines),
            amount=cmd.amount,
            at=utcnow(),
        )

    def book() -> tuple[Shipment, list[Message]]:
        shipment = Shipment.book(new_shipment_id(), cmd.order_id, booking=cmd.booking, **terms())
        return shipment, [created(shipment)]

    def booked_already(shipment: Shipment) -> Decision:
        # After its cancellation (a tombstone) the saga expects no reply; a duplicate gets it again.
        if shipment.tombstone:
            return []
        if shipment.status == HELD and cmd.booking not in shipment.bookings:
            shipment.rebook(cmd.booking, **terms(replacing=shipment.tracking_number))
            return [created(shipment)]
        if shipment.status == HELD:
            # A booking made before the hold, delivered again: its answer would tell the change's
            # saga the held shipment is booked. Nothing; the change's own booking answers.
            return []
        return Again([created(shipment)])

    result = await logistics.change_or_insert(cmd.order_id, booked_already, book, env)
    shipment = result.loaded.aggregate
    if result.written and len(shipment.bookings) > 1:
        log.info("held shipment booked again", extra={"shipment_id": shipment.shipment_id,
                                                      "booking": cmd.booking, "carrier": shipment.carrier,
                                                      "mode": shipment.mode})  # fmt: skip
    elif result.written:
        log.info("shipment booked", extra={"shipment_id": shipment.shipment_id, "carrier": shipment.carrier,
                                           "mode": shipment.mode})  # fmt: skip
    elif shipment.tombstone:
        log.info("booking arrived after its cancellation: ignored")
    elif not result.sent:
        log.info("earlier booking redelivered while the shipment is held: ignored",
                 extra={"shipment_id": shipment.shipment_id, "booking": cmd.booking,
                        "held_by": shipment.held_by})  # fmt: skip


async def hold_shipment(cmd: HoldShipment, env: Envelope, logistics: Logistics) -> None:
    """Keep the booked shipment from leaving while the order changes (R7.2): ShipmentHeld, held;
    or held=False with the reason when the goods left (the change is a return, R7.3), the
    shipment is cancelled, or no carrier was booked. A duplicate is answered again, unwritten."""
    now = utcnow()

    def held(shipment: Shipment, *, yes: bool = True, reason: str = "") -> ShipmentHeld:
        return ShipmentHeld(order_id=cmd.order_id, change_id=cmd.change_id,
                            shipment_id=None if shipment.tombstone else shipment.shipment_id,
                            held=yes, reason=reason)  # fmt: skip

    def hold(shipment: Shipment) -> Decision:
        try:
            held_now = shipment.hold(cmd.change_id, now)
        except CannotHold as exc:
            # Decided on what is stored, so a redelivery gets the same answer: nothing to write.
            return Again([held(shipment, yes=False, reason=str(exc))])
        reply = [held(shipment)]
        return reply if held_now else Again(reply)

    try:
        result = await logistics.change(cmd.order_id, hold, env)
    except NotFound:
        reply = ShipmentHeld(order_id=cmd.order_id, change_id=cmd.change_id, held=False,
                             reason="no carrier is booked for the order")  # fmt: skip
        await logistics.shipments.publish(logistics.envelopes([reply], env))
        log.info("hold asked for an order with no shipment", extra={"change_id": cmd.change_id})
        return
    shipment = result.loaded.aggregate
    if result.written:
        log.info("shipment held for a change of the order", extra={"shipment_id": shipment.shipment_id,
                                                                   "change_id": cmd.change_id})  # fmt: skip
    elif any(isinstance(m, ShipmentHeld) and not m.held for m in result.sent):
        log.warning("hold refused", extra={"shipment_id": shipment.shipment_id, "change_id": cmd.change_id,
                                           "status": shipment.status})  # fmt: skip


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
