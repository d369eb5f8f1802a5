"""Everything fulfillment did for one order: the supply orders raised, or a cancellation tombstone.

CancelSupply arriving before RaiseSupply leaves a ``cancelled`` request behind so the late
RaiseSupply raises nothing (reordering-safe compensation, ARCHITECTURE.md). It also keeps the
answer to each order change (issue 8), so that a ChangeSupply delivered again is answered again
with the same answer and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from shared.contracts import SupplyChanged


class SupplyRequestStatus(StrEnum):
    RAISED = "raised"
    CANCELLED = "cancelled"


@dataclass
class SupplyRequest:
    """Per-order record that carries the replies (outbox) and the tombstone."""

    order_id: str
    status: SupplyRequestStatus = SupplyRequestStatus.RAISED
    supply_order_ids: list[str] = field(default_factory=list)
    cancelled_ids: list[str] = field(default_factory=list)
    changes: dict[str, SupplyChanged] = field(default_factory=dict)  # change id -> the answer sent
    version: int = 0  # optimistic concurrency token, owned by the store

    @classmethod
    def tombstone(cls, order_id: str) -> SupplyRequest:
        """A cancellation that came first: nothing raised and nothing ever will be."""
        return cls(order_id=order_id, status=SupplyRequestStatus.CANCELLED)

    @property
    def is_cancelled(self) -> bool:
        return self.status is SupplyRequestStatus.CANCELLED

    def record(self, supply_order_ids: Iterable[str]) -> None:
        """Remember the supply orders raised for the order (each once)."""
        for supply_order_id in supply_order_ids:
            if supply_order_id not in self.supply_order_ids:
                self.supply_order_ids.append(supply_order_id)

    def cancel(self, cancelled_ids: Iterable[str]) -> None:
        """Close the request for good; ``cancelled_ids`` are the open ones that were cancelled (R7.1)."""
        for supply_order_id in cancelled_ids:
            if supply_order_id not in self.cancelled_ids:
                self.cancelled_ids.append(supply_order_id)
        self.status = SupplyRequestStatus.CANCELLED

    def answer_change(self, answer: SupplyChanged) -> bool:
        """Keep an order change's answer, and record what it raised; False when that change was
        answered before (a duplicate: the stored answer is the one to give again)."""
        if answer.change_id in self.changes:
            return False
        self.changes[answer.change_id] = answer
        self.record(ref.supply_order_id for ref in answer.supply_orders)
        return True
