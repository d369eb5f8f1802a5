"""Request and response bodies of intake's HTTP contract (API.md "intake: orders")."""

from services.intake.schemas.requests import Claim, ContactIn, Decision, LineIn, OrderCreate, Reason
from services.intake.schemas.responses import (
    AwaitingPage,
    ContactInternal,
    ContactPublic,
    HistoryPublic,
    LinePublic,
    OrderInternal,
    OrderPage,
    OrderPublic,
    ReviewQueue,
    StepPublic,
    SupplyOrderPublic,
    order_internal,
    order_view,
)

__all__ = [
    "AwaitingPage",
    "Claim",
    "ContactIn",
    "ContactInternal",
    "ContactPublic",
    "Decision",
    "HistoryPublic",
    "LineIn",
    "LinePublic",
    "OrderCreate",
    "OrderInternal",
    "OrderPage",
    "OrderPublic",
    "Reason",
    "ReviewQueue",
    "StepPublic",
    "SupplyOrderPublic",
    "order_internal",
    "order_view",
]
