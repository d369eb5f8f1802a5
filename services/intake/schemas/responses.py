"""Response bodies of intake's HTTP contract (API.md "intake: orders"): what outside clients see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.intake.adapters import from_doc


class ContactPublic(BaseModel):
    name: str
    phone: str = Field(description="masked: the number is internal only (R1.2)")


class LinePublic(BaseModel):
    sku: str
    name: str
    spec: str | None
    quantity: int
    unit_price: int
    amount: int


class HistoryPublic(BaseModel):
    at: datetime
    status: str | None = None
    event: str | None = None
    by: str
    reason: str


class SupplyOrderPublic(BaseModel):
    supply_order_id: str
    kind: str
    sku: str
    quantity: int
    expected_at: str
    status: str


class OrderPublic(BaseModel):
    """An order as every reader sees it (R9.1): status, lines, total, priority, flags, history."""

    order_id: str
    status: str
    customer_id: str
    customer_name: str
    channel: str
    payment_terms: str | None
    required_by: date | None
    delivery_address: str
    contact: ContactPublic
    lines: list[LinePublic]
    discount: int
    freight: int
    subtotal: int
    total: int
    currency: str = "CNY"
    remarks: str
    priority: str
    flags: list[str]
    hold: str | None = Field(description="what an on_hold order waits for: credit or approval")
    history: list[HistoryPublic]
    shipment_id: str | None
    carrier: str | None
    tracking_numbers: list[str]
    supply_orders: list[SupplyOrderPublic]
    expected_delivery: date | None
    invoice_ids: list[str]
    credit_notes: list[dict[str, Any]]
    returned_quantities: dict[str, int]
    created_at: datetime


class OrderPage(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


def mask_phone(phone: str) -> str:
    """138****8000: enough to recognise, not enough to call (R1.2)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def order_public(doc: dict[str, Any]) -> OrderPublic:
    order = from_doc(doc)
    return OrderPublic(
        order_id=order.order_id,
        status=order.status,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        channel=order.channel,
        payment_terms=order.payment_terms,
        required_by=order.required_by,
        delivery_address=order.delivery_address,
        contact=ContactPublic(name=order.contact.name, phone=mask_phone(order.contact.phone)),
        lines=[
            LinePublic(
                sku=li.sku,
                name=li.name,
                spec=li.spec,
                quantity=li.quantity,
                unit_price=li.unit_price,
                amount=li.amount,
            )
            for li in order.lines
        ],
        discount=order.discount,
        freight=order.freight,
        subtotal=order.subtotal,
        total=order.total,
        remarks=order.remarks,
        priority=order.priority,
        flags=order.flags,
        hold=order.saga.hold,
        history=[
            HistoryPublic(at=h.at, status=h.status, event=h.event, by=h.by, reason=h.reason)
            for h in order.history
        ],
        shipment_id=order.shipment_id,
        carrier=order.carrier,
        tracking_numbers=order.tracking_numbers,
        supply_orders=[SupplyOrderPublic(**vars(so)) for so in order.supply_orders.values()],
        expected_delivery=order.expected_delivery,
        invoice_ids=order.invoice_ids,
        credit_notes=order.credit_notes,
        returned_quantities=order.returned_quantities,
        created_at=order.created_at,
    )
