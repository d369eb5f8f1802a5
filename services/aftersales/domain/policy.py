"""The return policy applied at the door (R8.3 "review against policy") and who pays return freight."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import ReturnRefused

# Only goods that left the warehouse can come back; before dispatch the order is cancelled instead (R7.3).
RETURNABLE_ORDER_STATUSES = frozenset({"shipped", "delivered", "completed", "partially_returned"})


class ReturnReason(StrEnum):
    CUSTOMER_CHOICE = "customer_choice"
    QUALITY_FAULT = "quality_fault"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"


# R8.3: return freight follows the reason - the customer's own choice is theirs to pay, a fault is ours.
FREIGHT_PAYER: Mapping[ReturnReason, str] = {
    ReturnReason.CUSTOMER_CHOICE: "customer",
    ReturnReason.QUALITY_FAULT: "company",
    ReturnReason.DAMAGED: "company",
    ReturnReason.WRONG_ITEM: "company",
}

# Free-text reasons (API.md takes a plain string) are matched on these words; the first match wins.
_KEYWORDS: tuple[tuple[ReturnReason, tuple[str, ...]], ...] = (
    (ReturnReason.WRONG_ITEM, ("wrong", "not what i ordered", "发错", "错发", "规格不符")),
    (ReturnReason.DAMAGED, ("damage", "broken", "crushed", "破损", "损坏")),
    (ReturnReason.QUALITY_FAULT, ("quality", "defect", "fault", "not working", "质量", "故障")),
)


def classify_reason(text: str) -> ReturnReason:
    """Read a reason code, or failing that the words of a free-text reason; no fault named = choice."""
    normalized = text.strip().lower().replace("-", "_").replace(" ", "_")
    if normalized in ReturnReason.__members__.values():
        return ReturnReason(normalized)
    lowered = text.lower()
    for reason, words in _KEYWORDS:
        if any(word in lowered for word in words):
            return reason
    return ReturnReason.CUSTOMER_CHOICE


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int  # ordered
    shipped: int  # left the warehouse; equals quantity unless the order shipped partially
    unit_price: int  # fen
    # A bundle's components per unit, as the order recorded them (R1.9); empty for a plain product.
    components: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class OrderSnapshot:
    """What aftersales needs to know about the order being returned, read from intake at the door."""

    order_id: str
    customer_id: str
    status: str
    lines: tuple[OrderLine, ...]
    total: int  # fen: lines - discount + freight (R1.5)

    def shipped(self, sku: str) -> int:
        return sum(line.shipped for line in self.lines if line.sku == sku)

    def ordered_units(self) -> dict[str, int]:
        units: dict[str, int] = {}
        for line in self.lines:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
        return units

    def unit_price(self, sku: str) -> int:
        # A SKU on several lines at different prices is refunded at the lowest: never more than was paid.
        return min(line.unit_price for line in self.lines if line.sku == sku)

    def components(self, sku: str) -> tuple[tuple[str, int], ...]:
        """What one unit of ``sku`` is in the warehouse: a bundle's components (R1.9), else nothing."""
        return next((line.components for line in self.lines if line.sku == sku and line.components), ())


@dataclass(frozen=True)
class ReturnLine:
    """A returned line in the SKU ordered; a bundle (R1.9) comes back whole, at the bundle's
    price, and its ``components`` per unit are what goes back on the shelf."""

    sku: str
    quantity: int
    unit_price: int  # fen, the order's price
    components: tuple[tuple[str, int], ...] = field(default=())

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price

    def stock_units(self) -> dict[str, int]:
        """The units inventory takes back for this line: the bundle's components x quantity, or itself."""
        if not self.components:
            return {self.sku: self.quantity}
        return {sku: per_unit * self.quantity for sku, per_unit in self.components}


def merge_quantities(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Sum quantities per SKU, keeping first-seen order (a SKU named twice is one return line)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return merged


def _not_shipped(order: OrderSnapshot, sku: str) -> str:
    """Why ``sku`` cannot come back: not on the order, or only inside a bundle (R1.9), which is
    returned whole (its refund is the bundle's price, not a part's)."""
    bundles = sorted({ln.sku for ln in order.lines if any(part == sku for part, _ in ln.components)})
    if bundles:
        return f"not shipped on its own: it is part of bundle {', '.join(bundles)}; return the bundle"
    return "not shipped on this order"


def review(
    order: OrderSnapshot, requested: Iterable[tuple[str, int]], already_returned: Mapping[str, int]
) -> tuple[ReturnLine, ...]:
    """Check a request against the policy and price it at the order's prices; refuse what breaks it."""
    if order.status not in RETURNABLE_ORDER_STATUSES:
        raise ReturnRefused(
            f"order {order.order_id} is {order.status}; only shipped goods can be returned",
            code="order_not_returnable",
            fields={"order_id": f"status is {order.status}"},
        )
    wanted = merge_quantities(requested)
    if not wanted:
        raise ReturnRefused("a return needs at least one line", code="no_lines", fields={"lines": "empty"})
    errors: dict[str, str] = {}
    for sku, quantity in wanted.items():
        if quantity <= 0:
            errors[f"lines.{sku}"] = "quantity must be positive"
            continue
        shipped = order.shipped(sku)
        if shipped == 0:
            errors[f"lines.{sku}"] = _not_shipped(order, sku)
            continue
        left = shipped - already_returned.get(sku, 0)
        if quantity > left:
            errors[f"lines.{sku}"] = (
                f"{quantity} requested, {left} of {shipped} shipped can still be returned"
            )
    if errors:
        raise ReturnRefused(
            "the return asks for more than was shipped", code="quantity_exceeds_shipped", fields=errors
        )
    return tuple(
        ReturnLine(sku, qty, order.unit_price(sku), order.components(sku)) for sku, qty in wanted.items()
    )
