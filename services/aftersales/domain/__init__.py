"""Pure domain of the return saga (R8.3): no I/O, no framework imports."""

from .errors import (
    AftersalesError,
    IdempotencyKeyReused,
    InvalidTransition,
    ReturnNotFound,
    ReturnRefused,
    UnknownOrder,
)
from .numbering import counter_key, format_return_id
from .policy import (
    FREIGHT_PAYER,
    RETURNABLE_ORDER_STATUSES,
    OrderLine,
    OrderSnapshot,
    ReturnLine,
    ReturnReason,
    classify_reason,
    merge_quantities,
    review,
)
from .records import HistoryEntry, Inspection
from .refund import RefundLedger, SettledRefund
from .saga import FINAL_STATUSES, TRANSITIONS, Return, Status, units_claimed

__all__ = [
    "FINAL_STATUSES",
    "FREIGHT_PAYER",
    "RETURNABLE_ORDER_STATUSES",
    "TRANSITIONS",
    "AftersalesError",
    "HistoryEntry",
    "IdempotencyKeyReused",
    "Inspection",
    "InvalidTransition",
    "OrderLine",
    "OrderSnapshot",
    "RefundLedger",
    "Return",
    "ReturnLine",
    "ReturnNotFound",
    "ReturnReason",
    "ReturnRefused",
    "SettledRefund",
    "Status",
    "UnknownOrder",
    "classify_reason",
    "counter_key",
    "format_return_id",
    "merge_quantities",
    "review",
    "units_claimed",
]
