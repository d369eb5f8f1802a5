"""Aftersales' events: the outcome of a return (R8.3)."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import Event, LineQty


class ReturnCompleted(Event):
    """Returned goods were restocked and refunded by a credit note (R8.3)."""

    SERVICE: ClassVar[str] = "aftersales"
    return_id: str
    lines: list[LineQty]
    refund_total: int
    credit_note_id: str


class ReturnRejected(Event):
    """A return failed inspection: nothing was restocked or refunded (R8.3)."""

    SERVICE: ClassVar[str] = "aftersales"
    return_id: str
    reason: str
