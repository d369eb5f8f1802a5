"""The one place that lists what aftersales consumes: the replies of the return saga."""

from __future__ import annotations

from services.aftersales import handlers
from services.aftersales.handlers import Deps
from shared.bus import Bus
from shared.contracts import CreditNoteIssued, ReturnRestocked
from shared.envelope import Envelope


def subscribe(bus: Bus, deps: Deps) -> None:
    """ReturnRestocked (inventory) and CreditNoteIssued (billing), matched on ``return_id``."""

    async def on_return_restocked(message: ReturnRestocked, envelope: Envelope) -> None:
        await handlers.return_restocked(deps, message, envelope)

    async def on_credit_note_issued(message: CreditNoteIssued, envelope: Envelope) -> None:
        await handlers.credit_note_issued(deps, message, envelope)

    bus.subscribe(ReturnRestocked, on_return_restocked)
    bus.subscribe(CreditNoteIssued, on_credit_note_issued)
