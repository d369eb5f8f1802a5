"""The review queue (R2.1-R2.3): orders waiting for a person, claimed in batches, released.

An order on hold waits for a reviewer (flags), a manager or the general manager (R2.2); the
queue lists them urgent first, then key, then normal, oldest first within each (R1.7). A reviewer
claims a batch: each claim is exclusive until it expires (``INTAKE_CLAIM_TTL_S``) or is released,
so two reviewers never get the same order; a decision clears it. Claims are part of the order, so
the optimistic ``version`` of every write makes a race for one order go to one reviewer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.intake.domain.errors import ClaimedByAnother, NotOnHold
from services.intake.domain.order import Order, epoch_ms

WAITING_HOLDS = ("review", "approval", "general_manager", "credit")


def claimable(order: Order, at: datetime) -> bool:
    """On hold for a person and not claimed by anyone right now."""
    return (order.status == "on_hold" and order.saga.hold in WAITING_HOLDS
            and (order.claim_by is None or order.claim_until_ms <= epoch_ms(at)))  # fmt: skip


def claim(order: Order, by: str, at: datetime, ttl_s: float) -> bool:
    """Give ``by`` the order until ``at + ttl_s`` if nobody holds it (their own claim is renewed);
    False when it is not claimable any more (decided, or claimed by another meanwhile)."""
    if not (claimable(order, at) or (order.claim_by == by and order.status == "on_hold")):
        return False
    order.claim_by, order.claim_until_ms = by, epoch_ms(at + timedelta(seconds=ttl_s))
    return True


def release(order: Order, by: str, at: datetime) -> None:
    """Put the order back in the queue; only the claim's holder may, and only while it holds it."""
    if order.status != "on_hold":
        raise NotOnHold(f"order {order.order_id} is {order.status}, not waiting for review")
    if order.claim_by is None or order.claim_until_ms <= epoch_ms(at):
        return  # nobody holds it: nothing to release
    if order.claim_by != by:
        raise ClaimedByAnother(f"order {order.order_id} is claimed by {order.claim_by}, not {by} (R2.3)")
    order.claim_by, order.claim_until_ms = None, 0
