"""How much a return refunds, decided once per return against the order's refund ledger (R8.3, R6.2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .policy import ReturnLine


@dataclass(frozen=True)
class SettledRefund:
    """The refund decided for one return: the units it took back and the amount it refunds (fen)."""

    units: Mapping[str, int]
    total: int


@dataclass
class RefundLedger:
    """Refunds decided so far for one order, so that the return which brings the last ordered unit
    back refunds the rest of the order total, discount and freight included, and no return of the
    order is ever refunded twice (a redelivered reply finds its refund already settled here)."""

    order_id: str
    refunds: dict[str, SettledRefund] = field(default_factory=dict)
    version: int = 0  # optimistic concurrency: two returns of one order settle one after the other

    def returned_units(self) -> dict[str, int]:
        units: dict[str, int] = {}
        for refund in self.refunds.values():
            for sku, quantity in refund.units.items():
                units[sku] = units.get(sku, 0) + quantity
        return units

    def refunded(self) -> int:
        return sum(refund.total for refund in self.refunds.values())

    def settle(
        self,
        return_id: str,
        lines: Sequence[ReturnLine],
        *,
        order_total: int,
        ordered_units: Mapping[str, int],
    ) -> int:
        """Decide (once) the refund of a return whose goods are back on the shelf; returns it in fen."""
        if return_id in self.refunds:
            return self.refunds[return_id].total
        units = {line.sku: line.quantity for line in lines}
        returned = self.returned_units()
        for sku, quantity in units.items():
            returned[sku] = returned.get(sku, 0) + quantity
        everything_back = all(returned.get(sku, 0) >= qty for sku, qty in ordered_units.items())
        # Never refund more than the customer paid for the order (R1.5 total = lines - discount +
        # freight) less what its earlier returns refunded; a big discount can make that the limit.
        left = max(0, order_total - self.refunded())
        # The whole order came back: refund all that is left, so discount and freight are included.
        total = left if everything_back else min(left, sum(line.amount for line in lines))
        self.refunds[return_id] = SettledRefund(units=units, total=total)
        return total
