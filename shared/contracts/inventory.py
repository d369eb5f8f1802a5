"""Inventory's commands and events: stock (R4.1, R4.2) and returned goods (R8.3)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import Command, Event, LineQty, Priority, Shortage


class ReserveStock(Command):
    """Reserve every line, never more than available; what cannot be reserved is reported short."""

    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]
    priority: Priority = "normal"


class ReleaseStock(Command):
    """Compensation of ReserveStock: every unit held for the order goes back to available."""

    SERVICE: ClassVar[str] = "inventory"


class ReceiveSupply(Command):
    """A supply order arrived: on-hand goes up and the units are held for the order that waited."""

    SERVICE: ClassVar[str] = "inventory"
    supply_order_id: str
    sku: str
    quantity: int = Field(gt=0)


class CommitStock(Command):
    """The goods left the warehouse: held units leave on-hand and reserved."""

    SERVICE: ClassVar[str] = "inventory"


class RestockReturn(Command):
    """Put returned, sellable goods back on hand (R8.3)."""

    SERVICE: ClassVar[str] = "inventory"
    SENT_BY: ClassVar[tuple[str, ...]] = ("aftersales",)  # the return saga; intake only classifies it
    return_id: str
    lines: list[LineQty]


class StockReserved(Event):
    """Every line of the order is held in stock for it (R4.1)."""

    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class StockShort(Event):
    """Some units could not be held; ``shortages`` says what to make or buy (R4.1, R4.2)."""

    SERVICE: ClassVar[str] = "inventory"
    reserved: list[LineQty]
    shortages: list[Shortage]


class StockReceived(Event):
    """Goods of a supply order arrived and were counted on hand (R4.2)."""

    SERVICE: ClassVar[str] = "inventory"
    supply_order_id: str
    sku: str
    quantity: int


class StockReleased(Event):
    """What was held for the order went back to available stock (R7.1)."""

    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class StockCommitted(Event):
    """The order's held units left the warehouse with the goods."""

    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class ReturnRestocked(Event):
    """Returned goods that passed inspection are back on hand (R8.3)."""

    SERVICE: ClassVar[str] = "inventory"
    return_id: str
    lines: list[LineQty]


# --- an order change (issue 8, R7.2, R4.2): the saga's steps for the difference only; the
# protocol is in services/intake/domain/changes.py and docs/ARCHITECTURE.md "Changing an order".


class AdjustStock(Command):
    """The order's reservation becomes ``lines`` (bundles expanded; a SKU left out: none wanted)."""

    SERVICE: ClassVar[str] = "inventory"
    change_id: str
    lines: list[LineQty]


class StockAdjusted(Event):
    """The reservation changed as asked: what went back, what was held more, what is still missing."""

    SERVICE: ClassVar[str] = "inventory"
    change_id: str
    released: list[LineQty] = Field(default_factory=list)
    reserved: list[LineQty] = Field(default_factory=list)
    missing: list[Shortage] = Field(default_factory=list)
