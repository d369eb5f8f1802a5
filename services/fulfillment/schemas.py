"""Response schemas of fulfillment's HTTP API (API.md): supply orders with ISO 8601 timestamps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from services.fulfillment.domain import SupplyOrder


class SupplyOrderPublic(BaseModel):
    supply_order_id: str
    order_id: str
    kind: Literal["production", "purchase"]
    sku: str
    quantity: int
    status: Literal["open", "completed", "cancelled"]
    expected_at: str
    created_at: str
    completed_at: str | None = None
    cancelled_at: str | None = None
    started_at: str | None = None  # production began (R7.2): null when not started, and for purchases
    started_by: str | None = None


def public(order: SupplyOrder) -> SupplyOrderPublic:
    """Timestamps as ISO 8601 with their UTC offset (API.md)."""
    return SupplyOrderPublic(
        supply_order_id=order.supply_order_id,
        order_id=order.order_id,
        kind=order.kind,
        sku=order.sku,
        quantity=order.quantity,
        status=order.status.value,
        expected_at=order.expected_at.isoformat(),
        created_at=order.created_at.isoformat(),
        completed_at=order.completed_at.isoformat() if order.completed_at else None,
        cancelled_at=order.cancelled_at.isoformat() if order.cancelled_at else None,
        started_at=order.started_at.isoformat() if order.started_at else None,
        started_by=order.started_by,
    )
