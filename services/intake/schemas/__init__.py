"""Request and response bodies of intake's HTTP contract (API.md "intake: orders")."""

from services.intake.schemas.requests import ContactIn, Decision, LineIn, OrderCreate, Reason
from services.intake.schemas.responses import (
    ContactPublic,
    HistoryPublic,
    LinePublic,
    OrderPage,
    OrderPublic,
    SupplyOrderPublic,
    mask_phone,
    order_public,
)

__all__ = [
    "ContactIn",
    "ContactPublic",
    "Decision",
    "HistoryPublic",
    "LineIn",
    "LinePublic",
    "OrderCreate",
    "OrderPage",
    "OrderPublic",
    "Reason",
    "SupplyOrderPublic",
    "mask_phone",
    "order_public",
]
