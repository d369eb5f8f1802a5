"""Logistics use cases: book (R5.1, R5.2), cancel before dispatch (R7.1), carrier reports (R5.3, R5.4).

Every message is staged in the shipment document it is about and published by the outbox
right after the write, so a crash can lose neither the change nor its message. A duplicate
command writes nothing: its reply is published again under the same message id (issue 10).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from services.logistics.adapters import MongoShipmentStore
from services.logistics.domain import (
    CannotCancel,
    CarrierRules,
    Consignee,
    EventOutcome,
    Shipment,
    tracking_number,
)
from services.logistics.settings import Settings
from shared.contracts import (
    CancelShipment,
    CreateShipment,
    Message,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelayed,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentLost,
)
from shared.envelope import Envelope, new_envelope, utcnow
from shared.errors import ConcurrencyError
from shared.outbox import Outbox

log = logging.getLogger(__name__)


class ShipmentNotFound(Exception):
    """No booked shipment has this id."""


@dataclass
class Logistics:
    """What logistics' handlers depend on; built once by ``main.bootstrap``."""

    settings: Settings
    shipments: MongoShipmentStore
    outbox: Outbox

    @property
    def rules(self) -> CarrierRules:
        s = self.settings
        return CarrierRules(
            s.default_carrier, s.dedicated_carrier, s.dedicated_vehicle_above, s.region_carriers
        )

    def envelopes(self, messages: list[Message], cause: Envelope | None) -> list[Envelope]:
        return [new_envelope(m, producer=self.settings.service_name, causation=cause) for m in messages]

    async def save(
        self, shipment: Shipment, loaded: dict, messages: list[Message], cause: Envelope | None
    ) -> None:
        saved = await self.shipments.save(shipment, loaded, self.envelopes(messages, cause))
        await self.outbox.flush(self.shipments.collection, saved)

    async def add(self, shipment: Shipment, messages: list[Message], cause: Envelope | None) -> None:
        saved = await self.shipments.add(shipment, self.envelopes(messages, cause))
        await self.outbox.flush(self.shipments.collection, saved)


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
    for _ in range(logistics.settings.write_attempts):
        existing = await logistics.shipments.by_order(cmd.order_id)
        if existing is None:
            booking = logistics.rules.choose(cmd.amount, cmd.delivery_address)
            shipment = Shipment.book(
                new_shipment_id(),
                cmd.order_id,
                carrier=booking.carrier,
                mode=booking.mode,
                tracking_number=tracking_number(booking.carrier, secrets.randbelow(10**12)),
                consignee=Consignee(cmd.contact_name, cmd.contact_phone, cmd.delivery_address),
                lines=tuple((ln.sku, ln.quantity) for ln in cmd.lines),
                amount=cmd.amount,
                at=utcnow(),
            )
            try:
                await logistics.add(shipment, [created(shipment)], env)
            except DuplicateKeyError:
                continue  # a racing twin booked (or cancelled) the order first: look again
            log.info(
                "shipment booked",
                extra={
                    "shipment_id": shipment.shipment_id,
                    "carrier": shipment.carrier,
                    "mode": shipment.mode,
                },
            )
            return
        shipment = existing[0]
        if shipment.tombstone:
            # The saga cancelled this step before the booking arrived; it expects no reply.
            log.info("booking arrived after its cancellation: ignored")
            return
        # A duplicate: the booking stands; answer again under the same id, writing nothing.
        await logistics.outbox.publish(logistics.envelopes([created(shipment)], env))
        return
    raise ConcurrencyError(f"shipment of {cmd.order_id} kept changing; the bus will retry")


async def cancel_shipment(cmd: CancelShipment, env: Envelope, logistics: Logistics) -> None:
    """Cancel the booking before dispatch (R7.1); once the goods left, log and reply nothing."""
    for _ in range(logistics.settings.write_attempts):
        existing = await logistics.shipments.by_order(cmd.order_id)
        if existing is None:
            tomb = Shipment.tombstone_for(new_shipment_id(), cmd.order_id, utcnow())
            try:
                await logistics.add(tomb, [ShipmentCancelled(order_id=cmd.order_id, shipment_id=None)], env)
            except DuplicateKeyError:
                continue
            return
        shipment, doc = existing
        try:
            cancelled_now = shipment.cancel(utcnow(), "order cancelled")
        except CannotCancel as exc:
            # Documented choice: no reply. The saga hears ShipmentDispatched instead and turns the
            # cancellation into a return (R7.3); replying "cancelled" here would be a lie.
            log.warning("cancellation refused: goods already left", extra={"reason": str(exc)})
            return
        shipment_id = None if shipment.tombstone else shipment.shipment_id
        reply: list[Message] = [ShipmentCancelled(order_id=cmd.order_id, shipment_id=shipment_id)]
        if not cancelled_now:
            # A duplicate: cancelled once; answer again under the same id, writing nothing.
            await logistics.outbox.publish(logistics.envelopes(reply, env))
            return
        try:
            await logistics.save(shipment, doc, reply, env)
        except ConcurrencyError:
            continue
        return
    raise ConcurrencyError(f"shipment of {cmd.order_id} kept changing; the bus will retry")


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
    """Apply a carrier's report (R5.3, R5.4); False when it repeats one already recorded."""
    # Stored times are UTC with millisecond precision: normalise now so a resent report compares equal.
    when = (at or utcnow()).astimezone(UTC)
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    for _ in range(logistics.settings.write_attempts):
        loaded = await logistics.shipments.get(shipment_id)
        if loaded is None or loaded[0].tombstone:
            raise ShipmentNotFound(f"no shipment {shipment_id}")
        shipment, doc = loaded
        outcome = shipment.record(type_, when, note, at_given=at is not None)
        if not outcome.recorded:
            return shipment, False
        try:
            await logistics.save(shipment, doc, notice(shipment, outcome), None)
        except ConcurrencyError:
            continue
        log.info(
            "carrier event recorded",
            extra={
                "order_id": shipment.order_id,
                "shipment_id": shipment_id,
                "event": type_,
                "status": shipment.status,
            },
        )
        return shipment, True
    raise ConcurrencyError(f"shipment {shipment_id} kept changing")
