"""The one list of what billing consumes (ARCHITECTURE.md): message type -> handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from services.billing.handlers import Billing, release_credit, reserve_credit
from services.billing.invoicing import issue_order_invoice, issue_return_credit_note
from shared.bus import Bus
from shared.contracts import IssueCreditNote, IssueInvoice, Message, ReleaseCredit, ReserveCredit

CONSUMES: dict[type[Message], Callable[..., Awaitable[None]]] = {
    ReserveCredit: reserve_credit,  # R3.1 credit check
    ReleaseCredit: release_credit,  # R7.1 compensation
    IssueInvoice: issue_order_invoice,  # R6.1
    IssueCreditNote: issue_return_credit_note,  # R6.2, R8.3
}


def subscribe(bus: Bus, billing: Billing) -> None:
    """Bind every consumed message to its handler with billing's dependencies."""
    for message_type, handler in CONSUMES.items():
        bus.subscribe(message_type, partial(handler, billing=billing))
