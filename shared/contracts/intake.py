"""Intake's events: what the order saga tells the other services about an order (R2.5)."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import Command, Event, PricedLine


class OrderConfirmed(Event):
    """The customer accepted the order confirmation: finance, warehouse and logistics are told (R2.5)."""

    SERVICE: ClassVar[str] = "intake"
    customer_id: str
    confirmation_version: int  # the version the customer accepted
    amount: int
    currency: str = "CNY"
    payment_terms: str = ""
    lines: list[PricedLine]
    delivery_address: str
    contact_name: str
    required_by: str = ""  # ISO date
    priority: str = "normal"


class AbsorbOrder(Command):
    """An order merged into this one (R1.8) gave back everything it held: take its lines on."""

    SERVICE: ClassVar[str] = "intake"
    SENT_BY: ClassVar[tuple[str, ...]] = ("intake",)  # the merged order's saga tells the other one
    from_order: str
    lines: list[PricedLine]
    reason: str = ""
