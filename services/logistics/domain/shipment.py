"""A shipment and the carrier's reports about it (R5.2-R5.4, R7.1), held and booked again
while its order changes (issue 8, R7.2).

Status moves only by the transition table below; the event log keeps every report,
including exceptions that do not move the status (a delay), and every hold and rebooking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import CannotCancel, CannotHold, InvalidTransition

BOOKED, DISPATCHED, IN_TRANSIT, DELIVERED, CANCELLED, LOST, HELD = (
    "booked",
    "dispatched",
    "in_transit",
    "delivered",
    "cancelled",
    "lost",
    "held",
)
# The goods are with the carrier (or were): no hold, no cancellation, only a return (R7.3).
LEFT = (DISPATCHED, IN_TRANSIT, DELIVERED, LOST)
CARRIER_EVENTS: tuple[str, ...] = ("picked_up", "in_transit", "delivered", "delayed", "lost")

# event type -> {status it may arrive in: status it leads to}. A lost parcel may still turn up
# and be signed for (R5.3 resolves exceptions), so "delivered" is accepted after "lost". A held
# shipment (its order is changing, R7.2) must not be picked up: no "picked_up" from HELD.
TRANSITIONS: dict[str, dict[str, str]] = {
    "picked_up": {BOOKED: DISPATCHED},
    "in_transit": {DISPATCHED: IN_TRANSIT, IN_TRANSIT: IN_TRANSIT},
    "delivered": {DISPATCHED: DELIVERED, IN_TRANSIT: DELIVERED, LOST: DELIVERED},
    "delayed": {BOOKED: BOOKED, HELD: HELD, DISPATCHED: DISPATCHED, IN_TRANSIT: IN_TRANSIT},
    "lost": {DISPATCHED: LOST, IN_TRANSIT: LOST},
}
# Milestones happen once: a second report of one is the carrier repeating itself.
MILESTONES = ("picked_up", "delivered", "lost")
# What the rest of the system hears about each report (none for plain in-transit scans).
NOTIFIES: dict[str, str] = {
    "picked_up": "dispatched",
    "delivered": "delivered",
    "delayed": "delayed",
    "lost": "lost",
}


@dataclass(frozen=True)
class ShipmentEvent:
    type: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Consignee:
    """Who receives the goods, and where. Not their phone: intake keeps it, logistics asks for it
    when it prints the packing list (issue 7), so no shipment, message or parked copy holds it."""

    name: str
    address: str


@dataclass(frozen=True)
class EventOutcome:
    """``recorded`` False means a repeat: nothing changed and nobody is told again."""

    recorded: bool
    event: ShipmentEvent
    notify: str | None = None


@dataclass
class Shipment:
    """One shipment per order; a tombstone stands for a cancellation that came before any booking.

    While its order changes (R7.2) the shipment is held (``held_by`` the change) and then booked
    again under that change's id: ``bookings`` are the booking keys made so far ("" the first),
    so a redelivered booking is recognised and books nothing twice."""

    shipment_id: str
    order_id: str
    carrier: str
    mode: str
    tracking_number: str
    status: str
    consignee: Consignee | None = None
    lines: tuple[tuple[str, int], ...] = ()
    amount: int = 0
    events: list[ShipmentEvent] = field(default_factory=list)
    tombstone: bool = False
    version: int = 0
    bookings: tuple[str, ...] = ("",)
    held_by: str | None = None

    @classmethod
    def book(
        cls,
        shipment_id: str,
        order_id: str,
        *,
        carrier: str,
        mode: str,
        tracking_number: str,
        consignee: Consignee,
        lines: tuple[tuple[str, int], ...],
        amount: int,
        at: datetime,
        booking: str = "",
    ) -> Shipment:
        """A carrier booking (R5.1) with its tracking number (R5.2); ``booking`` its key ("" the
        first booking of an order, CreateShipment.booking)."""
        return cls(
            shipment_id,
            order_id,
            carrier,
            mode,
            tracking_number,
            BOOKED,
            consignee,
            lines,
            amount,
            [ShipmentEvent("booked", at, f"{carrier} ({mode})")],
            bookings=(booking,),
        )

    @classmethod
    def tombstone_for(cls, shipment_id: str, order_id: str, at: datetime) -> Shipment:
        """Remember a cancellation of an order that was never booked, so a late booking does nothing."""
        first = ShipmentEvent("cancelled", at, "cancelled before booking")
        return cls(shipment_id, order_id, "", "", "", CANCELLED, events=[first], tombstone=True)

    def record(self, type_: str, at: datetime, note: str = "", *, at_given: bool = True) -> EventOutcome:
        """Apply a carrier report; repeats are absorbed, reports that do not fit raise InvalidTransition."""
        event = ShipmentEvent(type_, at, note)
        if type_ not in TRANSITIONS:
            raise InvalidTransition(f"unknown carrier event {type_!r}")
        if self._is_repeat(event, at_given):
            return EventOutcome(False, self._previous(event, at_given) or event)
        next_status = TRANSITIONS[type_].get(self.status)
        if type_ == "picked_up" and self.status == HELD:
            raise InvalidTransition(
                f"shipment {self.shipment_id} is held for a change of the order ({self.held_by}): "
                "it must not be handed over to the carrier until it is booked again"
            )
        if next_status is None or self.tombstone:
            raise InvalidTransition(f"{type_} cannot happen to a {self.status} shipment {self.shipment_id}")
        self.status = next_status
        self.events.append(event)
        return EventOutcome(True, event, NOTIFIES.get(type_))

    def cancel(self, at: datetime, reason: str = "") -> bool:
        """Cancel a booking before the goods leave (R7.1), held or not; False if it was cancelled
        already."""
        if self.status == CANCELLED:
            return False
        if self.status not in (BOOKED, HELD):
            raise CannotCancel(f"shipment {self.shipment_id} is {self.status}; cancelling is a return now")
        self.status = CANCELLED
        self.held_by = None
        self.events.append(ShipmentEvent("cancelled", at, reason))
        return True

    def hold(self, change_id: str, at: datetime) -> bool:
        """Keep the booked goods from leaving while change ``change_id`` of the order is made
        (R7.2); False for a repeat: held by that change already, or booked again by it since (a
        late redelivery must not hold the rebooked shipment again). CannotHold once the goods
        left (the change is a return, R7.3) or the shipment is cancelled."""
        if not change_id:
            raise CannotHold(f"a hold of shipment {self.shipment_id} must name the change it is for")
        if self.tombstone or self.status == CANCELLED:
            raise CannotHold(f"shipment {self.shipment_id} is cancelled: there is nothing to hold")
        if self.held_by == change_id or change_id in self.bookings:
            return False
        if self.status in LEFT:
            raise CannotHold(
                f"the goods left: shipment {self.shipment_id} is {self.status}; "
                "the change is a return now (R7.3)"
            )
        self.status = HELD
        self.held_by = change_id
        self.events.append(ShipmentEvent("held", at, change_id))
        return True

    def rebook(
        self,
        booking: str,
        *,
        carrier: str,
        mode: str,
        tracking_number: str,
        consignee: Consignee,
        lines: tuple[tuple[str, int], ...],
        amount: int,
        at: datetime,
    ) -> None:
        """Book the held shipment again after its order changed (R7.2): the same shipment, with
        the carrier and mode chosen anew (R5.1), a new tracking number (R5.2) and the new lines,
        amount and consignee. Only a held shipment, only under a booking key not made yet, and
        never with the tracking number it had (ValueError)."""
        if self.status != HELD or self.tombstone:
            raise InvalidTransition(
                f"shipment {self.shipment_id} is {self.status}: only a held shipment is booked again"
            )
        if booking in self.bookings:
            raise InvalidTransition(f"shipment {self.shipment_id} was booked under {booking!r} already")
        if tracking_number == self.tracking_number:
            raise ValueError(f"a rebooking of {self.shipment_id} needs a new tracking number")
        self.carrier, self.mode, self.tracking_number = carrier, mode, tracking_number
        self.consignee, self.lines, self.amount = consignee, lines, amount
        self.status = BOOKED
        self.held_by = None
        self.bookings = (*self.bookings, booking)
        self.events.append(ShipmentEvent("rebooked", at, f"{carrier} ({mode}) for {booking}"))

    def _is_repeat(self, event: ShipmentEvent, at_given: bool) -> bool:
        if event.type in MILESTONES:
            return any(e.type == event.type for e in self.events)
        return self._previous(event, at_given) is not None

    def _previous(self, event: ShipmentEvent, at_given: bool) -> ShipmentEvent | None:
        # With the carrier's own time the report is identified exactly; without it (the server
        # stamped "now") only a report identical to the latest one counts as a repeat.
        same = [e for e in self.events if (e.type, e.note) == (event.type, event.note)]
        if at_given:
            return next((e for e in same if e.at == event.at), None)
        last = self.events[-1] if self.events else None
        if last is not None and (last.type, last.note) == (event.type, event.note):
            return last
        return same[-1] if event.type in MILESTONES and same else None
