"""Builders for logistics' handler and store tests: random ids, so tests can share one store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.logistics.domain import Consignee, Shipment
from shared.contracts import CancelShipment, CreateShipment, LineQty, Message
from shared.envelope import Envelope, new_envelope

AT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def a_shipment(order_id: str | None = None) -> Shipment:
    return Shipment.book(
        uid("SH"),
        order_id or uid("SO"),
        carrier="SF Express",
        mode="express",
        tracking_number="SF000000000001",
        consignee=Consignee("Wang Li", "上海市浦东新区世纪大道100号"),
        lines=(("LAMP-RED", 2),),
        amount=50_000,
        at=AT,
    )


def a_booking(order_id: str, *, amount: int = 50_000) -> CreateShipment:
    return CreateShipment(
        order_id=order_id,
        customer_id="CUST-1",
        delivery_address="上海市浦东新区世纪大道100号",
        contact_name="Wang Li",
        amount=amount,
        lines=[LineQty(sku="LAMP-RED", quantity=2)],
    )


def a_cancellation(order_id: str) -> CancelShipment:
    return CancelShipment(order_id=order_id)


def sent(message: Message) -> Envelope:
    """``message`` as delivered: a command from the order saga, under a fresh message id."""
    return new_envelope(message, producer="intake")
