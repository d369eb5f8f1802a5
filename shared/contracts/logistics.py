"""Logistics' commands and events: shipping and the carrier's reports (R5)."""

from __future__ import annotations

from typing import ClassVar, Literal

from shared.contracts.base import Command, Event, LineQty, Priority


class CreateShipment(Command):
    """Book a carrier by the rules of R5.1 and assign a tracking number (R5.2)."""

    SERVICE: ClassVar[str] = "logistics"
    customer_id: str
    delivery_address: str
    contact_name: str
    contact_phone: str
    amount: int
    lines: list[LineQty]
    priority: Priority = "normal"


class CancelShipment(Command):
    """Compensation of CreateShipment: only possible before dispatch (R7.1)."""

    SERVICE: ClassVar[str] = "logistics"


class ShipmentCreated(Event):
    """A carrier is booked for the order, with its tracking number (R5.1, R5.2)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    carrier: str
    mode: str
    tracking_number: str


class ShipmentDispatched(Event):
    """The carrier picked the goods up: the order has shipped (R5.2)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    tracking_number: str
    at: str


class ShipmentDelivered(Event):
    """The goods were signed for (R5.4)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    at: str


class ShipmentDelayed(Event):
    """The carrier reports a delay: a person must tell the customer within the hour (R5.3)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    type: Literal["delayed"] = "delayed"  # kept for readers of version 1; a loss is ShipmentLost
    note: str = ""


class ShipmentLost(Event):
    """The carrier reports the parcel lost: a person must re-ship or refund within the hour (R5.3)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    note: str = ""


class ShipmentCancelled(Event):
    """The booking was cancelled before the goods left (R7.1)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str | None = None  # None when nothing had been booked yet
