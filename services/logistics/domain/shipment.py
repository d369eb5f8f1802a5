"""A shipment and the carrier's reports about it (R5.2-R5.4, R7.1).

Status moves only by the transition table below; the event log keeps every report,
including exceptions that do not move the status (a delay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import CannotCancel, InvalidTransition

BOOKED, DISPATCHED, IN_TRANSIT, DELIVERED, CANCELLED, LOST = (
    "booked",
    "dispatched",
    "in_transit",
    "delivered",
    "cancelled",
    "lost",
)
CARRIER_EVENTS: tuple[str, ...] = ("picked_up", "in_transit", "delivered", "delayed", "lost")

# event type -> {status it may arrive in: status it leads to}. A lost parcel may still turn up
# and be signed for (R5.3 resolves exceptions), so "delivered" is accepted after "lost".
TRANSITIONS: dict[str, dict[str, str]] = {
    "picked_up": {BOOKED: DISPATCHED},
    "in_transit": {DISPATCHED: IN_TRANSIT, IN_TRANSIT: IN_TRANSIT},
    "delivered": {DISPATCHED: DELIVERED, IN_TRANSIT: DELIVERED, LOST: DELIVERED},
    "delayed": {BOOKED: BOOKED, DISPATCHED: DISPATCHED, IN_TRANSIT: IN_TRANSIT},
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
    """One booking per order; a tombstone stands for a cancellation that came before any booking."""

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
    ) -> Shipment:
        """A carrier booking (R5.1) with its tracking number (R5.2)."""
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
        if next_status is None or self.tombstone:
            raise InvalidTransition(f"{type_} cannot happen to a {self.status} shipment {self.shipment_id}")
        self.status = next_status
        self.events.append(event)
        return EventOutcome(True, event, NOTIFIES.get(type_))

    def cancel(self, at: datetime, reason: str = "") -> bool:
        """Cancel a booking before the goods leave (R7.1); False if it was cancelled already."""
        if self.status == CANCELLED:
            return False
        if self.status != BOOKED:
            raise CannotCancel(f"shipment {self.shipment_id} is {self.status}; cancelling is a return now")
        self.status = CANCELLED
        self.events.append(ShipmentEvent("cancelled", at, reason))
        return True

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
