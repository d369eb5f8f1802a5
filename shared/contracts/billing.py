"""Billing's commands and events: credit (R3.1), invoicing (R6) and payments (R3.3)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import Command, Event, PricedLine


class ReserveCredit(Command):
    """Hold ``amount`` of the customer's credit limit for this order; ``force`` is a person's approval."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int = Field(ge=0)
    force: bool = False
    payment_terms: str = ""  # the order's term (shared.terms); empty: the customer's (R3.2)
    currency: str = "CNY"  # the order's: a payment in another currency is refused (R3.3)


class ReleaseCredit(Command):
    """Compensation of ReserveCredit: give the held amount back (R7.1)."""

    SERVICE: ClassVar[str] = "billing"


class IssueInvoice(Command):
    """Invoice a shipped order (R6.1); the held credit becomes a receivable."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    lines: list[PricedLine]
    discount: int = 0
    freight: int = 0
    total: int
    prices_include_tax: bool = True  # the order's unit prices are gross (with VAT) or net (R1.2, R6.1)
    currency: str = "CNY"


class IssueCreditNote(Command):
    """Refund returned goods with a negative entry, never an edit (R6.2, R8.3)."""

    SERVICE: ClassVar[str] = "billing"
    SENT_BY: ClassVar[tuple[str, ...]] = ("aftersales",)  # the return saga; intake only classifies it
    return_id: str
    customer_id: str
    lines: list[PricedLine]
    total: int = Field(ge=0)


class CreditReserved(Event):
    """Credit is held for the order (or not needed: ``skipped`` for prepaid terms), R3.1."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int
    exposure: int
    skipped: bool = False  # prepaid customers skip the credit check


class CreditLimitExceeded(Event):
    """The order would push the customer's exposure over the limit: it waits for a person (R3.1)."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int
    exposure: int
    credit_limit: int
    reason: str


class CreditReleased(Event):
    """What was held for the order went back to the customer's available credit (R7.1)."""

    SERVICE: ClassVar[str] = "billing"
    amount: int


class InvoiceIssued(Event):
    """The order's one invoice was issued, deposits deducted (R6.1)."""

    SERVICE: ClassVar[str] = "billing"
    invoice_id: str
    total: int
    tax: int


class CreditNoteIssued(Event):
    """A negative entry offsetting the order's invoice for a return was issued (R6.2, R8.3)."""

    SERVICE: ClassVar[str] = "billing"
    return_id: str
    credit_note_id: str
    total: int  # negative: it offsets the invoice
    tax: int


class PaymentReceived(Event):
    """Finance confirmed money received for the order (R3.3); ``paid_total`` opens its gates (R3.2)."""

    SERVICE: ClassVar[str] = "billing"
    payment_id: str
    amount: int
    paid_total: int = 0  # everything received for the order so far, net of refunds
    currency: str = "CNY"
    by: str = ""  # the principal who recorded it (R9.3)


class RefundPayments(Command):
    """Compensation of money received (R7.1 "deposits refunded"): a negative entry per payment."""

    SERVICE: ClassVar[str] = "billing"
    reason: str = ""


class PaymentsRefunded(Event):
    """What was received for the order is owed back: refund entries recorded (R6.2, R7.1)."""

    SERVICE: ClassVar[str] = "billing"
    refund_ids: list[str] = Field(default_factory=list)
    amount: int = 0  # refunded now; 0 when nothing had been paid


# --- an order change (issue 8, R7.2, R4.2): the saga's steps for the difference only; the
# protocol is in services/intake/domain/changes.py and docs/ARCHITECTURE.md "Changing an order".


class AdjustCredit(Command):
    """The order's credit hold becomes ``amount`` (its new total); an increase is checked (R3.1)."""

    SERVICE: ClassVar[str] = "billing"
    change_id: str
    customer_id: str
    amount: int = Field(ge=0)


class CreditAdjusted(Event):
    """Billing's answer: ``accepted`` (the hold is ``amount`` now) or refused with ``reason``."""

    SERVICE: ClassVar[str] = "billing"
    change_id: str
    amount: int
    accepted: bool
    exposure: int = 0
    credit_limit: int = 0
    reason: str = ""
    refunded: int = 0  # money paid beyond the new, lower total, refunded (R7.2)
