"""A production order (``make``) or purchase order (``buy``) for one SKU of one order (R4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from services.fulfillment.domain.errors import InvalidQuantity, SupplyOrderCancelled
from shared.bounds import MAX_LEAD_TIME_DAYS

SupplyKind = Literal["production", "purchase"]


class SupplyStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def kind_for(sourcing: str) -> SupplyKind:
    """Manufactured items get a production order, traded items a purchase order (R4.2)."""
    if sourcing == "make":
        return "production"
    if sourcing == "buy":
        return "purchase"
    raise InvalidQuantity(f"unknown sourcing {sourcing!r}", {"sourcing": "must be 'make' or 'buy'"})


def expected_at(now: datetime, lead_time_days: int, default_lead_time_days: int) -> datetime:
    """Arrival is now + lead time (R4.2); a catalogue lead time of 0 means 'unknown', use the default.

    A lead time over MAX_LEAD_TIME_DAYS (a catalogue entry stored before the door bounded it, issue 7)
    is taken as that bound: the supply order is raised and the order moves on, instead of the date
    arithmetic overflowing and the RaiseSupply being parked with the order waiting forever.
    """
    if lead_time_days < 0:
        raise InvalidQuantity("lead time cannot be negative", {"lead_time_days": str(lead_time_days)})
    days = min(lead_time_days or default_lead_time_days, MAX_LEAD_TIME_DAYS)
    return now + timedelta(days=days)


@dataclass
class SupplyOrder:
    """One supply order; unique per (order_id, sku) so a redelivered RaiseSupply raises nothing new."""

    supply_order_id: str
    order_id: str
    kind: SupplyKind
    sku: str
    quantity: int
    expected_at: datetime
    created_at: datetime
    status: SupplyStatus = SupplyStatus.OPEN
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    version: int = 0  # optimistic concurrency token, owned by the store

    @classmethod
    def raise_for(cls, *, supply_order_id: str, order_id: str, sku: str, quantity: int, sourcing: str,
                  lead_time_days: int, now: datetime, default_lead_time_days: int) -> SupplyOrder:
        """Raise the supply order that covers a shortage."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidQuantity("a supply order is for a positive quantity", {"quantity": str(quantity)})
        return cls(
            supply_order_id=supply_order_id,
            order_id=order_id,
            kind=kind_for(sourcing),
            sku=sku,
            quantity=quantity,
            expected_at=expected_at(now, lead_time_days, default_lead_time_days),
            created_at=now,
        )

    def complete(self, now: datetime) -> bool:
        """Production finished or goods received; False when it was already completed."""
        if self.status is SupplyStatus.COMPLETED:
            return False
        if self.status is SupplyStatus.CANCELLED:
            raise SupplyOrderCancelled(f"supply order {self.supply_order_id} was cancelled")
        self.status = SupplyStatus.COMPLETED
        self.completed_at = now
        return True

    def cancel(self, now: datetime) -> bool:
        """Cancel if still open; a completed one is kept as stock (R7.1). True when it changed."""
        if self.status is not SupplyStatus.OPEN:
            return False
        self.status = SupplyStatus.CANCELLED
        self.cancelled_at = now
        return True
