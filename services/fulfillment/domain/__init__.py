"""Pure fulfillment domain: supply orders and the per-order supply request. No I/O here."""

from services.fulfillment.domain.errors import (
    DomainError,
    InvalidQuantity,
    SupplyOrderCancelled,
)
from services.fulfillment.domain.supply_order import (
    SupplyKind,
    SupplyOrder,
    SupplyStatus,
    expected_at,
    kind_for,
)
from services.fulfillment.domain.supply_request import SupplyRequest, SupplyRequestStatus

__all__ = [
    "DomainError",
    "InvalidQuantity",
    "SupplyKind",
    "SupplyOrder",
    "SupplyOrderCancelled",
    "SupplyRequest",
    "SupplyRequestStatus",
    "SupplyStatus",
    "expected_at",
    "kind_for",
]
