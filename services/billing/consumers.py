"""The one list of what billing consumes (ARCHITECTURE.md): message type -> handler."""

from __future__ import annotations

from services.billing.changes import adjust_credit
from services.billing.handlers import Billing, note_confirmed_order, release_credit, reserve_credit
from services.billing.invoicing import issue_credit_note, issue_invoice
from services.billing.payments import refund_payments
from shared.bus import Bus
from shared.bus.binding import Consumes, subscribe_all
from shared.contracts import (
    AdjustCredit,
    IssueCreditNote,
    IssueInvoice,
    OrderConfirmed,
    RefundPayments,
    ReleaseCredit,
    ReserveCredit,
)

CONSUMES: Consumes[Billing] = {
    ReserveCredit: reserve_credit,  # R3.1 credit check, R3.2 terms
    ReleaseCredit: release_credit,  # R7.1 compensation
    AdjustCredit: adjust_credit,  # issue 8: an order change (R7.2, R4.2) moves the hold, R3.1 checked
    IssueInvoice: issue_invoice,  # R6.1
    IssueCreditNote: issue_credit_note,  # R6.2, R8.3
    RefundPayments: refund_payments,  # R7.1 "deposits refunded", R6.2 negative entries
    OrderConfirmed: note_confirmed_order,  # R2.5 finance is told
}


def subscribe(bus: Bus, billing: Billing) -> None:
    """Bind every consumed message to its handler with the service's dependencies."""
    subscribe_all(bus, CONSUMES, billing)
