"""The one place that lists what fulfillment consumes (ARCHITECTURE.md) and which handler runs."""

from __future__ import annotations

from services.fulfillment import handlers
from services.fulfillment.deps import Fulfillment
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import CancelSupply, RaiseSupply

CONSUMES: Consumes[Fulfillment] = {
    RaiseSupply: handlers.raise_supply,  # R4.2
    CancelSupply: handlers.cancel_supply,  # R7.1 compensation
}


def subscribe(bus: Bus, ful: Fulfillment) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, ful)
