"""Request and response bodies of intake's HTTP contract (API.md "intake: orders")."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from services.intake.adapters import from_doc
from services.intake.domain.validation import LineRequest, OrderRequest

# Bounds keep absurd input a 422 rather than a store error (BSON integers are 64-bit).
Money = Annotated[StrictInt, Field(ge=0, le=10**15, description="fen")]
Quantity = Annotated[StrictInt, Field(le=10**9)]  # positivity is a domain check with a clear message
Text = Annotated[str, Field(max_length=500)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text
    phone: Annotated[str, Field(max_length=40)]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Annotated[str, Field(max_length=100)]
    name: Text | None = None
    spec: Text | None = Field(None, description='e.g. "red / L" (R1.2)')
    quantity: Quantity
    unit_price: Money | None = Field(None, description="defaults to the catalogue price")
    amount: Money | None = Field(None, description="when given, must be quantity x unit price (R1.5)")


class OrderCreate(BaseModel):
    """`POST /orders` (API.md); `amount` per line and `total` are optional cross-checks (R1.5)."""

    model_config = ConfigDict(extra="forbid")
    customer_id: Annotated[str, Field(max_length=200)]
    channel: Annotated[str, Field(max_length=40)]
    payment_terms: Text | None = None
    required_by: date | None = None
    delivery_address: Text
    contact: ContactIn
    lines: Annotated[list[LineIn], Field(max_length=500)]
    discount: Money = 0
    freight: Money = 0
    remarks: Annotated[str, Field(max_length=2000)] = ""
    total: Money | None = None

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            customer_id=self.customer_id,
            channel=self.channel,
            delivery_address=self.delivery_address,
            contact_name=self.contact.name,
            contact_phone=self.contact.phone,
            payment_terms=self.payment_terms,
            required_by=self.required_by,
            discount=self.discount,
            freight=self.freight,
            remarks=self.remarks,
            total=self.total,
            lines=[LineRequest(**line.model_dump()) for line in self.lines],
        )

    def fingerprint(self) -> str:
        """A hash of the body's content (not its key order or spacing), for Idempotency-Key checks."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class Reason(BaseModel):
    """`POST /orders/{id}/cancel`: why, and optionally who (R9.3)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    by: Annotated[str, Field(min_length=1, max_length=200)] = "customer"


class Decision(BaseModel):
    """`POST /orders/{id}/approve|reject`: who decided and why (R2.2)."""

    model_config = ConfigDict(extra="forbid")
    by: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


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
