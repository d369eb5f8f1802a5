"""Fulfillment's commands and events: production and purchase orders (R4.2)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import Command, Event, Priority, Shortage, SupplyOrderRef, SupplyTarget


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


# --- an order change (issue 8, R7.2, R4.2): the saga's steps for the difference only; the
# protocol is in services/intake/domain/changes.py and docs/ARCHITECTURE.md "Changing an order".


class CheckSupplyChange(Command):
    """May the open supply orders of ``skus`` for the order change (R7.2)? Changes nothing."""

    SERVICE: ClassVar[str] = "fulfillment"
    change_id: str
    skus: list[str]


class SupplyChangeChecked(Event):
    """Fulfillment's answer: ``refused`` names each SKU whose supply cannot change, and why."""

    SERVICE: ClassVar[str] = "fulfillment"
    change_id: str
    refused: dict[str, str] = Field(default_factory=dict)


class ChangeSupply(Command):
    """Set each SKU's open supply order for the order to its target: raise, resize or cancel."""

    SERVICE: ClassVar[str] = "fulfillment"
    change_id: str
    targets: list[SupplyTarget]
    priority: Priority = "normal"


class SupplyChanged(Event):
    """The open supply orders of the targets' SKUs after the change; ``kept``: SKU -> why unchanged."""

    SERVICE: ClassVar[str] = "fulfillment"
    change_id: str
    supply_orders: list[SupplyOrderRef] = Field(default_factory=list)
    cancelled: list[str] = Field(default_factory=list)
    kept: dict[str, str] = Field(default_factory=dict)
