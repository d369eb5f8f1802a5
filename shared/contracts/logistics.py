"""Logistics' commands and events: shipping and the carrier's reports (R5)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import model_validator

from shared.contracts.base import Command, Event, LineQty, Priority


class CreateShipment(Command):
    """Book a carrier by the rules of R5.1 and assign a tracking number (R5.2)."""

    SERVICE: ClassVar[str] = "logistics"
    customer_id: str
    delivery_address: str
    contact_name: str
    # No phone (issue 7): it stays with intake, which logistics asks when it prints the packing list.
    amount: int
    lines: list[LineQty]
    priority: Priority = "normal"
    # Which booking this is (issue 8, R7.2): "" the first; after a change held the shipment
    # (HoldShipment), that change's id: the held shipment is booked again with these lines, amount
    # and consignee. A booking already made (a redelivery) is answered again and changes nothing.
    booking: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_the_phone_of_older_senders(cls, data: Any) -> Any:
        # An intake from before issue 7 still sends ``contact_phone``: accepted, and dropped unread,
        # so a rolling upgrade parks nothing and no copy of the phone is kept.
        if isinstance(data, dict) and "contact_phone" in data:
            return {k: v for k, v in data.items() if k != "contact_phone"}
        return data


class CancelShipment(Command):
    """Compensation of CreateShipment: only possible before dispatch (R7.1)."""

    SERVICE: ClassVar[str] = "logistics"


class HoldShipment(Command):
    """Keep a booked shipment from leaving while its order changes (issue 8, R7.2)."""

    # A held shipment is not handed to the carrier until it is booked again (CreateShipment with
    # ``booking`` = ``change_id``) or cancelled (CancelShipment).

    SERVICE: ClassVar[str] = "logistics"
    change_id: str


class ShipmentHeld(Event):
    """Answer to HoldShipment: held, or not because the goods left already (a return then, R7.3)."""

    SERVICE: ClassVar[str] = "logistics"
    change_id: str
    shipment_id: str | None = None
    held: bool = True
    reason: str = ""


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
