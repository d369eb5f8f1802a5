"""Pure fulfillment domain: supply orders and the per-order supply request. No I/O here."""

from services.fulfillment.domain.changes import Outcome, applied, open_for, outcome, refusals
from services.fulfillment.domain.errors import (
    DomainError,
    InvalidQuantity,
    NotProduction,
    SupplyOrderCancelled,
    SupplyOrderCompleted,
)
from services.fulfillment.domain.supply_order import (
    Step,
    SupplyKind,
    SupplyOrder,
    SupplyStatus,
    expected_at,
    kind_for,
    step_for,
)
from services.fulfillment.domain.supply_request import SupplyRequest, SupplyRequestStatus

__all__ = [
    "DomainError",
    "InvalidQuantity",
    "NotProduction",
    "Outcome",
    "Step",
    "SupplyKind",
    "SupplyOrder",
    "SupplyOrderCancelled",
    "SupplyOrderCompleted",
    "SupplyRequest",
    "SupplyRequestStatus",
    "SupplyStatus",
    "applied",
    "expected_at",
    "kind_for",
    "open_for",
    "outcome",
    "refusals",
    "step_for",
]
