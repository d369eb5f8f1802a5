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


def build_message(name: str, ret: Return) -> Message:
    """The command or event named in the saga table, for this return as it is now."""
    qty_lines = [LineQty(sku=line.sku, quantity=line.quantity) for line in ret.lines]
    if name == "RestockReturn":
        return RestockReturn(order_id=ret.order_id, return_id=ret.return_id, lines=qty_lines)
    if name == "IssueCreditNote":
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
    if name == "ReturnCompleted":
        return ReturnCompleted(
            order_id=ret.order_id,
            return_id=ret.return_id,
            lines=qty_lines,
            refund_total=_required(ret.refund_total, "refund_total"),
            credit_note_id=_required(ret.credit_note_id, "credit_note_id"),
        )
    if name == "ReturnRejected":
        note = ret.inspection.note if ret.inspection else ""
        return ReturnRejected(
            order_id=ret.order_id, return_id=ret.return_id, reason=note or "failed inspection"
        )
    raise KeyError(f"the saga table names an unknown message {name!r}")


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise ValueError(f"{name} must be known before this message is sent")
    return value
