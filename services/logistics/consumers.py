"""The one list of what logistics consumes (ARCHITECTURE.md): message type -> handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from services.logistics.handlers import Logistics, cancel_shipment, create_shipment
from shared.bus import Bus
from shared.contracts import CancelShipment, CreateShipment, Message

CONSUMES: dict[type[Message], Callable[..., Awaitable[None]]] = {
    CreateShipment: create_shipment,  # R5.1, R5.2
    CancelShipment: cancel_shipment,  # R7.1 compensation
}


def subscribe(bus: Bus, logistics: Logistics) -> None:
    """Bind every consumed message to its handler with logistics' dependencies."""
    for message_type, handler in CONSUMES.items():
        bus.subscribe(message_type, partial(handler, logistics=logistics))
