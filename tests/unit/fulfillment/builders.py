"""Builders for fulfillment's handler and store tests: random ids, so tests can share one store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.fulfillment.domain import SupplyOrder
from shared.contracts import CancelSupply, Message, RaiseSupply, Shortage
from shared.envelope import Envelope, new_envelope

AT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def a_supply_order(order_id: str | None = None, sku: str | None = None, *, at: datetime = AT) -> SupplyOrder:
    return SupplyOrder.raise_for(
        supply_order_id=uid("PO"),
        order_id=order_id or uid("SO"),
        sku=sku or uid("SKU"),
        quantity=2,
        sourcing="buy",
        lead_time_days=3,
        now=at,
        default_lead_time_days=7,
    )


def a_raise(order_id: str, *skus: str) -> RaiseSupply:
    """A RaiseSupply for one unit of each SKU (made), or of one new SKU."""
    short = skus or (uid("SKU"),)
    lines = [Shortage(sku=sku, quantity=1, sourcing="make", lead_time_days=5) for sku in short]
    return RaiseSupply(order_id=order_id, shortages=lines)


def a_cancel(order_id: str) -> CancelSupply:
    return CancelSupply(order_id=order_id)


def sent(message: Message) -> Envelope:
    """``message`` as delivered: a command from the order saga, under a fresh message id."""
    return new_envelope(message, producer="intake")
