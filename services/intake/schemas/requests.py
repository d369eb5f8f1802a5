"""Request bodies of intake's HTTP contract (API.md "intake: orders").

Every body is a shared.schemas.RequestModel: unknown or server-owned fields (``status``,
``history``, ``by`` ...) and control characters are a 422 naming the field; every integer has
the bounds of shared.bounds (issue 7). ``remarks`` is free text and may hold line breaks.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated

from pydantic import Field, field_validator

from services.intake.domain.order import CHANNEL_WORDS, normalise_channel
from services.intake.domain.validation import LineRequest, OrderRequest
from shared.bounds import MAX_LINES, Money, Quantity
from shared.schemas import MULTILINE, RequestModel

Text = Annotated[str, Field(max_length=500)]


class ContactIn(RequestModel):
    name: Text
    phone: Annotated[str, Field(max_length=40)]


class LineIn(RequestModel):
    sku: Annotated[str, Field(max_length=100)]
    name: Text | None = None
    spec: Text | None = Field(None, description='e.g. "red / L" (R1.2)')
    quantity: Quantity
    unit_price: Money | None = Field(None, description="defaults to the catalogue price")
    amount: Money | None = Field(None, description="when given, must be quantity x unit price (R1.5)")


class OrderCreate(RequestModel):
    """`POST /orders` (API.md); `amount` per line and `total` are optional cross-checks (R1.5)."""

    customer_id: Annotated[str, Field(max_length=200)]
    channel: Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(CHANNEL_WORDS)})]
    payment_terms: Text | None = Field(
        None,
        description="prepaid | deposit | tt | lc | monthly | credit (R3.2); default: the customer's",
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217; payments must match")] = (
        "CNY"
    )
    prices_include_tax: bool = Field(True, description="unit prices are gross (VAT included) or net (R1.2)")
    required_by: date | None = None
    delivery_address: Text
    contact: ContactIn
    # The intake setting max_lines (default 500) is checked when the order is placed; this is the ceiling.
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)]
    discount: Money = 0
    freight: Money = 0
    remarks: Annotated[str, Field(max_length=2000), MULTILINE] = ""
    total: Money | None = None

    @field_validator("channel", mode="after")
    @classmethod
    def _one_spelling(cls, value: str) -> str:
        """``online`` is ``storefront`` (API.md): one spelling before any check, the key's included."""
        return normalise_channel(value) or value

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            customer_id=self.customer_id,
            channel=self.channel,
            delivery_address=self.delivery_address,
            contact_name=self.contact.name,
            contact_phone=self.contact.phone,
            payment_terms=self.payment_terms,
            currency=self.currency,
            prices_include_tax=self.prices_include_tax,
            required_by=self.required_by,
            discount=self.discount,
            freight=self.freight,
            remarks=self.remarks,
            total=self.total,
            lines=[LineRequest(**line.model_dump()) for line in self.lines],
        )

    def fingerprint(self) -> str:
        """A hash of the body's content (not its key order or spacing), for Idempotency-Key checks."""
        # Fields added later (issue 5) count only when given, so a body hashed before still matches.
        fields = type(self).model_fields
        later = {k for k in ("currency", "prices_include_tax") if getattr(self, k) == fields[k].default}
        body = self.model_dump(mode="json", exclude=later)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class Reason(RequestModel):
    """`POST /orders/{id}/cancel`: why. Who is the caller's key (R9.3, issue 7): a `by` is a 422."""

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Decision(RequestModel):
    """`POST /orders/{id}/approve|reject`: why (R2.2); who decided is the caller's key (issue 7)."""

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Claim(RequestModel):
    """`POST /review-queue/claims`: how many orders to take (R2.3); who claims is the caller's key."""

    count: Annotated[int, Field(ge=1, le=100)] = 10


class ChangeIn(RequestModel):
    """`POST /orders/{id}/changes[/preview]` (issue 8, R7.2): the order's lines as they should be
    (all of them; a line left out is removed), and/or a new delivery date or address; why; and
    optionally the order's `version` as last read (a 409 if it changed since). Who asks is the
    caller's key."""

    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None
    required_by: date | None = None
    delivery_address: Text | None = None
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    version: Annotated[int, Field(ge=0, le=10**12, description="the order's version as read")] | None = None

    def line_requests(self) -> list[LineRequest] | None:
        return None if self.lines is None else [LineRequest(**line.model_dump()) for line in self.lines]


class LineCancel(RequestModel):
    """`POST /orders/{id}/lines/{n}/cancel` (R4.2): `quantity` units of line n, or with `short` the
    units of it still short (on open supply orders), or the whole line when neither is given."""

    quantity: Quantity | None = None
    short: bool = False
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    version: Annotated[int, Field(ge=0, le=10**12)] | None = None


class MergeIn(RequestModel):
    """`POST /orders/{id}/merge` (R1.8): the order to merge into this one, and why; who asks is the
    caller's key."""

    order_id: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
