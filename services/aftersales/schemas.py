"""Request and response bodies of the returns API (API.md, extended only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.aftersales.domain import Return
from shared.bounds import OrderId, Quantity
from shared.schemas import MULTILINE, RequestModel


class ReturnLineIn(RequestModel):
    sku: str = Field(min_length=1, max_length=100)
    quantity: Quantity  # positive ints only (API.md)


class ReturnCreate(RequestModel):
    """``POST /returns``: which units of which order come back, and why (R8.3).

    ``order_id`` has intake's bound: an id intake would refuse is a 422 here, never a 503 (issue 7).
    """

    order_id: OrderId
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=1000)


class InspectionCreate(RequestModel):
    """``POST /returns/{id}/inspection``: the verdict on arrival; the note may span lines."""

    result: Literal["pass", "fail"]
    note: Annotated[str, Field(max_length=2000), MULTILINE] = ""


class ReturnLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: int
    amount: int


class InspectionPublic(BaseModel):
    result: str
    note: str
    by: str
    at: datetime


class HistoryPublic(BaseModel):
    at: datetime
    event: str
    status: str
    by: str
    reason: str


class ReturnPublic(BaseModel):
    """A return as everyone sees it: status, money in fen, and every step taken (R9.3)."""

    return_id: str
    order_id: str
    customer_id: str
    status: str
    reason: str
    reason_code: str
    freight_payer: Literal["customer", "company"]
    lines: list[ReturnLinePublic]
    currency: str = "CNY"
    refund_total: int | None
    credit_note_id: str | None
    credit_note_total: int | None
    inspection: InspectionPublic | None
    requested_at: datetime
    history: list[HistoryPublic]

    @classmethod
    def of(cls, ret: Return) -> ReturnPublic:
        inspection = ret.inspection
        return cls(
            return_id=ret.return_id,
            order_id=ret.order_id,
            customer_id=ret.customer_id,
            status=ret.status.value,
            reason=ret.reason,
            reason_code=ret.reason_code.value,
            freight_payer=ret.freight_payer,  # type: ignore[arg-type]
            lines=[
                ReturnLinePublic(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount)
                for ln in ret.lines
            ],
            refund_total=ret.refund_total,
            credit_note_id=ret.credit_note_id,
            credit_note_total=ret.credit_note_total,
            inspection=None
            if inspection is None
            else InspectionPublic(
                result=inspection.result, note=inspection.note, by=inspection.by, at=inspection.at
            ),
            requested_at=ret.requested_at,
            history=[
                HistoryPublic(at=h.at, event=h.event, status=h.status, by=h.by, reason=h.reason)
                for h in ret.history
            ],
        )
