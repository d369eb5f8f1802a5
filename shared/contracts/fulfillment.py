"""Fulfillment's commands and events: production and purchase orders (R4.2)."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import Command, Event, Priority, Shortage, SupplyOrderRef


class RaiseSupply(Command):
    """Raise a production order for ``make`` SKUs and a purchase order for ``buy`` SKUs."""

    SERVICE: ClassVar[str] = "fulfillment"
    shortages: list[Shortage]
    priority: Priority = "normal"


class CancelSupply(Command):
    """Compensation of RaiseSupply: open supply orders of the order are cancelled (R7.1)."""

    SERVICE: ClassVar[str] = "fulfillment"


class SupplyRaised(Event):
    """Production or purchase orders were raised for the order's shortages, with expected dates (R4.2)."""

    SERVICE: ClassVar[str] = "fulfillment"
    supply_orders: list[SupplyOrderRef]


class SupplyCompleted(Event):
    """A supply order was produced or received; its goods are on the way into stock (R4.2)."""

    SERVICE: ClassVar[str] = "fulfillment"
    supply_order_id: str
    sku: str
    quantity: int


class SupplyCancelled(Event):
    """The order's open supply orders were cancelled; completed ones stay as stock (R7.1)."""

    SERVICE: ClassVar[str] = "fulfillment"
    supply_order_ids: list[str]
