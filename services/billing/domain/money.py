"""Money in and out of an order (R3.3, R6.2) and what an order puts against its customer's limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

REFUND_PREFIX = "RF"


@dataclass(frozen=True)
class Payment:
    """Money received for an order; the reference (bank slip, transfer id) makes it unique."""

    reference: str
    order_id: str
    amount: int
    received_at: datetime
    currency: str = "CNY"
    by: str = ""  # the principal who recorded it (R9.3)


@dataclass(frozen=True)
class Refund:
    """Money owed back: a new negative entry against one payment, never an edit of it (R6.2)."""

    refund_id: str
    payment_id: str  # the payment's reference
    amount: int  # negative
    reason: str
    at: datetime
    cause: str = ""  # "cancel" (RefundPayments) or the return id of a credit note


def refund_id(order_id: str, reference: str, cause: str) -> str:
    """The same refund of the same payment for the same cause has the same id, whichever copy of
    a command records it: ``RF`` and 12 hex digits of a digest (safe in a path)."""
    digest = hashlib.sha256(f"{order_id}\x00{reference}\x00{cause}".encode()).hexdigest()
    return f"{REFUND_PREFIX}{digest[:12].upper()}"


@dataclass(frozen=True)
class Mark:
    """What one order counts in its customer's totals, and the order's ``seq`` when it was so."""

    held: int = 0
    receivable: int = 0
    seq: int = 0

    @property
    def exposure(self) -> int:
        return self.held + self.receivable


NO_MARK = Mark()


OWED, PAID_OUT = "owed", "paid_out"


@dataclass(frozen=True)
class RefundRecord:
    """A refund as finance works it (GET /refunds): owed until a person marks it paid out."""

    refund_id: str
    order_id: str
    customer_id: str | None
    payment_id: str
    amount: int  # negative, as on the order's account
    currency: str
    reason: str
    created_at: datetime
    status: str = OWED
    paid_out_at: datetime | None = None
    paid_out_by: str = ""
