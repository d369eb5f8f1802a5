"""The one list of what logistics consumes (ARCHITECTURE.md): message type -> handler."""

from __future__ import annotations

from services.logistics.deps import Logistics
from services.logistics.handlers import cancel_shipment, create_shipment, hold_shipment, note_booking_request
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import CancelShipment, CreateShipment, HoldShipment, OrderConfirmed

CONSUMES: Consumes[Logistics] = {
    CreateShipment: create_shipment,  # R5.1, R5.2
    CancelShipment: cancel_shipment,  # R7.1 compensation
    HoldShipment: hold_shipment,  # R7.2 an order change
    OrderConfirmed: note_booking_request,  # R2.5 a carrier booking request
}


def subscribe(bus: Bus, logistics: Logistics) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, logistics)
