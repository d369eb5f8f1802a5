"""The one place that lists what fulfillment consumes (ARCHITECTURE.md) and which handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.fulfillment import handlers
from services.fulfillment.handlers import Fulfillment
from shared.bus import Bus
from shared.contracts import CancelSupply, RaiseSupply
from shared.envelope import Envelope

CONSUMES: dict[type, Callable[[Any, Envelope, Fulfillment], Awaitable[None]]] = {
    RaiseSupply: handlers.raise_supply,
    CancelSupply: handlers.cancel_supply,
}


def subscribe(bus: Bus, ful: Fulfillment) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    for message_type, handler in CONSUMES.items():

        async def run(message: Any, envelope: Envelope, handler: Any = handler) -> None:
            await handler(message, envelope, ful)

        bus.subscribe(message_type, run)
