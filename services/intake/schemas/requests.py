"""Request bodies of intake's HTTP contract (API.md "intake: orders")."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

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
    """`POST /orders/{id}/cancel`: why. Who is the caller's key (R9.3, issue 7): a `by` is a 422."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Decision(BaseModel):
    """`POST /orders/{id}/approve|reject`: why (R2.2); who decided is the caller's key (issue 7)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
