"""Stock of one SKU across warehouses, and the two rules every stock write obeys (R4.1).

``reserved`` is the sum of the holds, ``available`` = on hand - reserved. The Mongo adapter keeps
these as stored numbers so it can change them with conditional ``$inc``; it takes its decisions
from ``reservable`` and ``draw_from_largest`` so the document and this model agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.inventory.domain.errors import BelowReserved, InvalidQuantity
from services.inventory.domain.product import _is_int


def reservable(available: int, wanted: int) -> int:
    """R4.1: hold as much as is available, never more, never a negative amount."""
    return max(0, min(available, wanted))


def adjusted_hold(held: int, available: int, wanted: int) -> int:
    """An order change (issue 8, R7.2, R4.2): the units the order holds once it wants ``wanted``.

    Less than held: exactly ``wanted``, the rest goes back to available. More: what is held plus
    what is available, never more than wanted (R4.1), never anything of another order's holds.
    """
    return wanted if wanted <= held else held + reservable(available, wanted - held)


@dataclass(frozen=True)
class HoldChange:
    """What one change of an order did to its hold on one SKU: ``before`` -> ``after`` (as recorded
    on the stock document, so a repeat reports the same), and ``held``: the hold as it is now."""

    before: int
    after: int
    held: int

    @property
    def released(self) -> int:
        return max(0, self.before - self.after)

    @property
    def reserved(self) -> int:
        return max(0, self.after - self.before)


def draw_from_largest(warehouses: dict[str, int], quantity: int) -> dict[str, int]:
    """Which warehouses ship ``quantity`` units: the fullest first, so few warehouses are touched.

    Ties go to the warehouse name in order so the choice is repeatable.
    """
    if quantity > sum(max(0, q) for q in warehouses.values()):
        raise BelowReserved("not enough units on hand to ship", {"quantity": str(quantity)})
    draws: dict[str, int] = {}
    left = quantity
    for name, on_hand in sorted(warehouses.items(), key=lambda item: (-item[1], item[0])):
        if left == 0:
            break
        take = min(on_hand, left)
        if take > 0:
            draws[name] = take
            left -= take
    return draws


def _check_quantity(name: str, value: int) -> None:
    if not _is_int(value) or value < 0:
        raise InvalidQuantity(f"{name} must be a non-negative integer", {name: str(value)})


@dataclass
class Stock:
    """On-hand units per warehouse, units held per order, receipts already counted."""

    sku: str
    warehouses: dict[str, int] = field(default_factory=dict)
    holds: dict[str, int] = field(default_factory=dict)
    # supply_order_id or "<return_id>:<sku>" -> units; a receipt is counted once.
    receipts: dict[str, int] = field(default_factory=dict)
    # order_id -> {warehouse: units} that left when the order shipped.
    commits: dict[str, dict[str, int]] = field(default_factory=dict)
    # order_id -> the order's last change made here: {"change": change_id, "before": n, "after": n}.
    adjustments: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def on_hand(self) -> int:
        return sum(self.warehouses.values())

    @property
    def reserved(self) -> int:
        return sum(self.holds.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def count(self, warehouse: str, on_hand: int) -> int:
        """Set a warehouse's counted quantity; returns the change. Never below what is promised."""
        _check_quantity("on_hand", on_hand)
        delta = on_hand - self.warehouses.get(warehouse, 0)
        if self.available + delta < 0:
            raise BelowReserved(
                f"{self.reserved} units are reserved; on hand cannot drop to {self.on_hand + delta}",
                {"on_hand": "below reserved"},
            )
        self.warehouses[warehouse] = on_hand
        return delta

    def hold(self, order_id: str, wanted: int) -> int:
        """Hold up to ``wanted`` units for the order; a second call returns the first decision."""
        _check_quantity("wanted", wanted)
        if order_id in self.holds:
            return self.holds[order_id]
        held = reservable(self.available, wanted)
        self.holds[order_id] = held
        return held

    def release(self, order_id: str) -> int:
        """Give the order's held units back to available; 0 when nothing is held."""
        return self.holds.pop(order_id, 0)

    def adjust(self, order_id: str, change_id: str, wanted: int) -> HoldChange:
        """The order's hold becomes what a change wants (``adjusted_hold``), once per change: a
        repeat of the change returns what it did the first time and moves nothing."""
        _check_quantity("wanted", wanted)
        current = self.holds.get(order_id)
        done = self.adjustments.get(order_id)
        if done is not None and done["change"] == change_id:
            return HoldChange(done["before"], done["after"], current or 0)
        before = current or 0
        if current is None and wanted == 0:
            return HoldChange(0, 0, 0)  # nothing held, nothing wanted: nothing to remember
        after = adjusted_hold(before, self.available, wanted)
        self.holds[order_id] = after
        self.adjustments[order_id] = {"change": change_id, "before": before, "after": after}
        return HoldChange(before, after, after)

    def limit(self, order_id: str, most: int) -> int:
        """Give back what the order holds beyond ``most`` (units a receipt held while a change cut
        the order); returns the hold afterwards."""
        _check_quantity("most", most)
        held = self.holds.get(order_id)
        if held is None or held <= most:
            return held or 0
        self.holds[order_id] = most
        return most

    def commit(self, order_id: str) -> dict[str, int]:
        """The order's goods left: held units leave on hand and reserved; returns the draws."""
        if order_id in self.commits:
            return self.commits[order_id]
        held = self.holds.get(order_id, 0)
        draws = draw_from_largest(self.warehouses, held)
        for name, units in draws.items():
            self.warehouses[name] -= units
        self.holds.pop(order_id, None)
        self.commits[order_id] = draws
        return draws

    def receive(self, receipt_id: str, quantity: int, warehouse: str, *, order_id: str = "",
                hold: int = 0) -> bool:
        """Count arriving goods once per receipt; ``hold`` of them go straight to the order."""
        _check_quantity("quantity", quantity)
        _check_quantity("hold", hold)
        if receipt_id in self.receipts:
            return False
        if hold > quantity or (hold and not order_id):
            raise InvalidQuantity("cannot hold more than was received", {"hold": str(hold)})
        self.receipts[receipt_id] = quantity
        self.warehouses[warehouse] = self.warehouses.get(warehouse, 0) + quantity
        if hold:
            self.holds[order_id] = self.holds.get(order_id, 0) + hold
        return True
