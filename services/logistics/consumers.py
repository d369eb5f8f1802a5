"""The one list of what logistics consumes (ARCHITECTURE.md): message type -> handler."""

from __future__ import annotations

from services.logistics.deps import Logistics
from services.logistics.handlers import cancel_shipment, create_shipment
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import CancelShipment, CreateShipment

CONSUMES: Consumes[Logistics] = {
    CreateShipment: create_shipment,  # R5.1, R5.2
    CancelShipment: cancel_shipment,  # R7.1 compensation
}


def subscribe(bus: Bus, logistics: Logistics) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, logistics)
