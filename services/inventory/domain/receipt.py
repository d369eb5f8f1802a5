"""A return restocked (R8.3): which units of which SKUs came back, recorded once per return."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class ReturnReceipt:
    """Units per SKU put back on hand for one return; the stock counts them per (return, SKU)."""

    return_id: str
    order_id: str
    lines: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, return_id: str, order_id: str, lines: Iterable[tuple[str, int]]) -> ReturnReceipt:
        """The same SKU on two lines is received once, summed."""
        summed: dict[str, int] = {}
        for sku, units in lines:
            summed[sku] = summed.get(sku, 0) + units
        return cls(return_id, order_id, summed)

    def receipt_id(self, sku: str) -> str:
        """The key the stock document counts this return's units of ``sku`` under."""
        return f"{self.return_id}:{sku}"
