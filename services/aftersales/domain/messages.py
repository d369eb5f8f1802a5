"""The messages the return saga sends, built from the return's own state (ids and primitives only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from shared.contracts import (
    IssueCreditNote,
    LineQty,
    Message,
    PricedLine,
    RestockReturn,
    ReturnCompleted,
    ReturnRejected,
)

if TYPE_CHECKING:
    from .saga import Return

T = TypeVar("T")


def _lines(ret: Return) -> list[LineQty]:
    return [LineQty(sku=line.sku, quantity=line.quantity) for line in ret.lines]


def restock(ret: Return) -> Message:
    """Inspection passed: inventory takes the goods back on hand (R8.3); a bundle as the
    components the order shipped (R1.9), which is what has stock. Credit note and completion
    keep the SKUs ordered."""
    units: dict[str, int] = {}
    for line in ret.lines:
        for sku, quantity in line.stock_units().items():
            units[sku] = units.get(sku, 0) + quantity
    lines = [LineQty(sku=sku, quantity=quantity) for sku, quantity in units.items()]
    return RestockReturn(order_id=ret.order_id, return_id=ret.return_id, lines=lines)


def credit_note(ret: Return) -> Message:
    """The goods are back: billing books the refund as a credit note (R6.2)."""
    # Lines at the order's unit prices; the total may exceed their sum when this return brings the
    # whole order back and so also refunds freight less discount (see refund.py).
    priced = [
        PricedLine(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount)
        for ln in ret.lines
    ]
    return IssueCreditNote(
        order_id=ret.order_id,
        return_id=ret.return_id,
        customer_id=ret.customer_id,
        lines=priced,
        total=_required(ret.refund_total, "refund_total"),
    )


def completed(ret: Return) -> Message:
    """Restocked and refunded: the order becomes returned or partially returned (R8.3)."""
    return ReturnCompleted(
        order_id=ret.order_id,
        return_id=ret.return_id,
        lines=_lines(ret),
        refund_total=_required(ret.refund_total, "refund_total"),
        credit_note_id=_required(ret.credit_note_id, "credit_note_id"),
    )


def rejected(ret: Return) -> Message:
    """Inspection failed: nothing is restocked or refunded (R8.3)."""
    note = ret.inspection.note if ret.inspection else ""
    return ReturnRejected(order_id=ret.order_id, return_id=ret.return_id, reason=note or "failed inspection")


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise ValueError(f"{name} must be known before this message is sent")
    return value
