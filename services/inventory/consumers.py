"""The one place that lists what the inventory consumes (ARCHITECTURE.md) and which handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.inventory import handlers
from services.inventory.deps import Inventory
from shared.bus import Bus
from shared.contracts import CommitStock, ReceiveSupply, ReleaseStock, ReserveStock, RestockReturn
from shared.envelope import Envelope

CONSUMES: dict[type, Callable[[Any, Envelope, Inventory], Awaitable[None]]] = {
    ReserveStock: handlers.reserve_stock,
    ReleaseStock: handlers.release_stock,
    ReceiveSupply: handlers.receive_supply,
    CommitStock: handlers.commit_stock,
    RestockReturn: handlers.restock_return,
}


def subscribe(bus: Bus, inv: Inventory) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    for message_type, handler in CONSUMES.items():

        async def run(message: Any, envelope: Envelope, handler: Any = handler) -> None:
            await handler(message, envelope, inv)

        bus.subscribe(message_type, run)
