"""The one place that lists what the inventory consumes (ARCHITECTURE.md) and which handler runs."""

from __future__ import annotations

from services.inventory import adjusting, handlers
from services.inventory.deps import Inventory
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import (
    AdjustStock,
    CommitStock,
    OrderConfirmed,
    ReceiveSupply,
    ReleaseStock,
    ReserveStock,
    RestockReturn,
)

CONSUMES: Consumes[Inventory] = {
    ReserveStock: handlers.reserve_stock,  # R4.1
    ReleaseStock: handlers.release_stock,  # R7.1 compensation
    ReceiveSupply: handlers.receive_supply,  # R4.2
    CommitStock: handlers.commit_stock,  # the goods left
    RestockReturn: handlers.restock_return,  # R8.3
    OrderConfirmed: handlers.note_picking,  # R2.5 a picking notice
    AdjustStock: adjusting.adjust_stock,  # issue 8, R7.2, R4.2: an order change
}


def subscribe(bus: Bus, inv: Inventory) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, inv)
