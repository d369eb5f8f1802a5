"""The one place that lists what fulfillment consumes (ARCHITECTURE.md) and which handler runs."""

from __future__ import annotations

from services.fulfillment import changes, handlers
from services.fulfillment.deps import Fulfillment
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import CancelSupply, ChangeSupply, CheckSupplyChange, RaiseSupply

CONSUMES: Consumes[Fulfillment] = {
    RaiseSupply: handlers.raise_supply,  # R4.2
    CancelSupply: handlers.cancel_supply,  # R7.1 compensation
    CheckSupplyChange: changes.check_supply_change,  # R7.2: started production refuses a change
    ChangeSupply: changes.change_supply,  # R7.2, R4.2: supply follows an order change
}


def subscribe(bus: Bus, ful: Fulfillment) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, ful)
