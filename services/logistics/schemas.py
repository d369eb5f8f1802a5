"""Request and response schemas of logistics' HTTP API (API.md): shipments and carrier events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from services.logistics.domain import Shipment
from shared.schemas import MULTILINE, RequestModel


class CarrierEventCreate(RequestModel):
    type: Literal["picked_up", "in_transit", "delivered", "delayed", "lost"]
    at: AwareDatetime | None = None  # the carrier's time; ISO 8601 with a UTC offset (API.md)
    note: Annotated[str, Field(max_length=1000), MULTILINE] = ""


class EventPublic(BaseModel):
    type: str
    at: datetime
    note: str


class ShipmentPublic(BaseModel):
    """A shipment as clients see it; the consignee's phone stays internal (R1.2)."""

    shipment_id: str
    order_id: str
    carrier: str
    mode: str
    tracking_number: str
    status: str  # booked, held (its order is changing, R7.2), dispatched, in_transit, delivered, ...
    held_by: str | None = None  # the order change a held shipment waits for
    events: list[EventPublic]

    @classmethod
    def of(cls, s: Shipment) -> ShipmentPublic:
        events = [EventPublic(type=e.type, at=e.at, note=e.note) for e in s.events]
        return cls(
            shipment_id=s.shipment_id,
            order_id=s.order_id,
            carrier=s.carrier,
            mode=s.mode,
            tracking_number=s.tracking_number,
            status=s.status,
            held_by=s.held_by,
            events=events,
        )


class PackingListPublic(BaseModel):
    """What goes with the goods (R5.2); internal roles only (``packing:read``)."""

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    consignee: str
    address: str
    phone: str = Field(description="the consignee's phone as intake has it when the list is printed")
    lines: list[dict[str, str | int]]
