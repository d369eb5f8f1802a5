"""A production order (``make``) or purchase order (``buy``) for one SKU of one order (R4.2).

A production order can be started by a person (production began); from then on its quantity
cannot change (R7.2). An order change (issue 8) sets a SKU's open supply order to what is still
missing: ``change_to`` resizes or cancels it, once per change id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from services.fulfillment.domain.errors import (
    InvalidQuantity,
    NotProduction,
    SupplyOrderCancelled,
    SupplyOrderCompleted,
)
from shared.bounds import MAX_LEAD_TIME_DAYS

SupplyKind = Literal["production", "purchase"]


class SupplyStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Step(StrEnum):
    """What an order change does to a SKU's supply (issue 8, R7.2)."""

    RAISE = "raise"  # none open and units missing: a new supply order
    RESIZE = "resize"  # the open one to the new quantity
    CANCEL = "cancel"  # nothing missing any more: the open one is cancelled
    KEEP = "keep"  # its production started: it stays as it is (R7.2)
    NONE = "none"  # nothing to do (already so, or already done by this change)


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


def check_target(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InvalidQuantity("a supply target is a number of units, 0 or more", {"quantity": str(quantity)})


def step_for(open_order: SupplyOrder | None, quantity: int) -> Step:
    """What setting a SKU's supply to ``quantity`` takes, given its open supply order (or none)."""
    check_target(quantity)
    if open_order is None or open_order.status is not SupplyStatus.OPEN:
        return Step.RAISE if quantity > 0 else Step.NONE
    if open_order.quantity == quantity:
        return Step.NONE
    if open_order.change_refusal() is not None:
        return Step.KEEP
    return Step.CANCEL if quantity == 0 else Step.RESIZE


@dataclass
class SupplyOrder:
    """One supply order; unique per (order_id, sku, raised_by_change): a redelivered RaiseSupply
    (``raised_by_change`` "") or ChangeSupply (its change id) raises nothing new. At most one of an
    order's supply orders for a SKU is open: a change raises one only when none is."""

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
    started_at: datetime | None = None  # production began (R7.2); purchase orders never start
    started_by: str | None = None  # who said so: the caller's key, never a request body
    raised_by_change: str = ""  # the order change that raised it; "" when RaiseSupply did
    changed_by: list[str] = field(default_factory=list)  # the changes that resized or cancelled it
    version: int = 0  # optimistic concurrency token, owned by the store

    @classmethod
    def raise_for(cls, *, supply_order_id: str, order_id: str, sku: str, quantity: int, sourcing: str,
                  lead_time_days: int, now: datetime, default_lead_time_days: int,
                  raised_by_change: str = "") -> SupplyOrder:  # fmt: skip
        """Raise the supply order that covers a shortage (of a RaiseSupply, or of an order change)."""
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
            raised_by_change=raised_by_change,
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

    def start(self, now: datetime, by: str) -> bool:
        """Production began (R7.2); False when it had started already (the first start stays)."""
        if self.kind != "production":
            raise NotProduction(
                f"{self.supply_order_id} is a purchase order: goods are bought, there is no production "
                "to start; complete it when they are received"
            )
        if self.status is SupplyStatus.CANCELLED:
            raise SupplyOrderCancelled(f"supply order {self.supply_order_id} was cancelled")
        if self.status is SupplyStatus.COMPLETED:
            raise SupplyOrderCompleted(f"supply order {self.supply_order_id} is completed already")
        if self.started_at is not None:
            return False
        self.started_at, self.started_by = now, by
        return True

    def change_refusal(self) -> str | None:
        """Why this supply order cannot change (R7.2): it is open production that started."""
        if self.status is SupplyStatus.OPEN and self.kind == "production" and self.started_at is not None:
            started = self.started_at.isoformat()
            return f"production of {self.sku} started at {started}; it cannot change (R7.2)"
        return None

    def change_to(self, quantity: int, change_id: str, now: datetime) -> Step:
        """Set this supply order to ``quantity`` for the order change ``change_id``: resized, or
        cancelled at 0. Once per change; a started production order is kept, a completed or
        cancelled one is never touched (both: ``KEEP`` / ``NONE``, nothing changes)."""
        if change_id in self.changed_by or self.raised_by_change == change_id:
            return Step.NONE  # this change did its part already (a redelivery)
        if self.status is not SupplyStatus.OPEN:
            check_target(quantity)
            return Step.NONE
        step = step_for(self, quantity)
        if step is Step.RESIZE:
            self.quantity = quantity
        elif step is Step.CANCEL:
            self.cancel(now)
        if step in (Step.RESIZE, Step.CANCEL):
            self.changed_by.append(change_id)
        return step
