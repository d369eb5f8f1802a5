"""Builders for logistics tests: random ids so tests share one process safely."""

from __future__ import annotations

import uuid

from shared.contracts import CreateShipment, LineQty


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def a_booking(
    order_id: str, *, amount: int = 50_000, address: str = "上海市浦东新区世纪大道100号"
) -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        customer_id="CUST-1",
        delivery_address=address,
        contact_name="Wang Li",
        amount=amount,
        lines=[LineQty(sku="LAMP-RED", quantity=2)],
    )
