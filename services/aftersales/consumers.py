"""The one place that lists what aftersales consumes: the replies of the return saga (R8.3)."""

from __future__ import annotations

from services.aftersales import handlers
from services.aftersales.deps import Deps
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import CreditNoteIssued, ReturnRestocked

CONSUMES: Consumes[Deps] = {
    ReturnRestocked: handlers.return_restocked,  # inventory took the goods back
    CreditNoteIssued: handlers.credit_note_issued,  # billing booked the refund
}


def subscribe(bus: Bus, deps: Deps) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, deps)
