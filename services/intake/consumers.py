"""The one place that lists what intake consumes (ARCHITECTURE.md) and which handler runs.

Every reply the saga table knows (domain/saga.py TABLE) goes to ``handle_reply``, so adding a
reply to the table subscribes to it; a completed return has its own use case (R8.3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.intake import handlers
from services.intake.domain.saga import REPLY_TYPES
from services.intake.handlers import Intake
from shared.bus import Bus
from shared.contracts import ReturnCompleted
from shared.envelope import Envelope

CONSUMES: dict[type, Callable[[Any, Envelope, Intake], Awaitable[None]]] = {
    **{reply: handlers.handle_reply for reply in REPLY_TYPES},
    ReturnCompleted: handlers.on_return_completed,
}


def subscribe(bus: Bus, intake: Intake) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    for message_type, handler in CONSUMES.items():

        async def run(message: Any, envelope: Envelope, handler: Any = handler) -> None:
            await handler(message, envelope, intake)

        bus.subscribe(message_type, run)
