"""The one place that lists what intake consumes (ARCHITECTURE.md) and which handler runs.

Every reply the saga table knows (domain/saga.py TABLE) goes to ``handle_reply``, so adding a
reply to the table subscribes to it; a completed return has its own use case (R8.3). A parked
message of an order is no reply: it marks the order stuck without moving it (domain/stuck.py).
"""

from __future__ import annotations

from services.intake import handlers
from services.intake.domain.saga import REPLY_TYPES
from services.intake.handlers import Intake
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import AbsorbOrder, DeadlinePassed, MessageParked

CONSUMES: Consumes[Intake] = {
    **{reply: handlers.handle_reply for reply in REPLY_TYPES},  # ReturnCompleted too: one path (R8.3)
    DeadlinePassed: handlers.on_deadline_passed,  # durable timers (shared.timers) of the saga's deadline rows
    MessageParked: handlers.message_parked,  # a service parked a message of an order: it is stuck (issue 7)
    AbsorbOrder: handlers.absorb_order,  # an order merged into this one gave everything back (R1.8)
}


def subscribe(bus: Bus, intake: Intake) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, intake)
