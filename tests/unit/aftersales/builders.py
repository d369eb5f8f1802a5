"""Builders for the aftersales domain tests: an order to return goods of, and a return."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.aftersales.domain import OrderLine, OrderSnapshot, Return

AT = datetime(2024, 5, 20, 9, 30, tzinfo=UTC)


def an_order(status: str = "delivered", total: int | None = None, **lines: int) -> OrderSnapshot:
    """An order of ``sku=quantity`` lines at 100.00 CNY (10000 fen) a unit, shipped in full."""
    lines = lines or {"SKU-A": 2, "SKU-B": 1}
    order_lines = tuple(OrderLine(sku, qty, qty, 10000) for sku, qty in lines.items())
    subtotal = sum(line.quantity * line.unit_price for line in order_lines)
    return OrderSnapshot(
        order_id=f"SO{uuid.uuid4().hex[:8]}",
        customer_id="CUST-1",
        status=status,
        lines=order_lines,
        total=subtotal if total is None else total,
    )


def a_return(order: OrderSnapshot, reason: str = "changed my mind", seq: int = 1, **lines: int) -> Return:
    """A return of ``sku=quantity`` lines (default: one unit of SKU-A) that passed the door."""
    return Return.request(
        return_id=f"RT{uuid.uuid4().hex[:8]}",
        order=order,
        lines=list((lines or {"SKU-A": 1}).items()),
        reason=reason,
        already_returned={},
        order_seq=seq,
        by="customer",
        at=AT,
    )
