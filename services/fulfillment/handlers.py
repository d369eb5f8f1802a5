"""Fulfillment use cases: raise and cancel supply for an order (R4.2, R7.1).

Idempotent by business key: one supply order per (order_id, sku) from RaiseSupply (an order
change raises its own under its change id: changes.py), one request document per order.
Tombstone choice: a RaiseSupply that finds the request ``cancelled`` raises nothing and
replies nothing (the saga already has its SupplyCancelled); any supply order a racing
RaiseSupply created meanwhile is cancelled at once. Every change goes through
``shared.aggregates.change`` (via ``Fulfillment.change``): decided again on a lost race, and a
duplicate is answered again under the same message id without a write.
"""

from __future__ import annotations

import logging
import uuid

from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import SupplyOrder, SupplyRequest, SupplyStatus, kind_for
from services.fulfillment.settings import Settings
from shared.aggregates import Again, Decision
from shared.bounds import MAX_LEAD_TIME_DAYS
from shared.contracts import (
    CancelSupply,
    Message,
    RaiseSupply,
    SupplyCancelled,
    SupplyOrderRef,
    SupplyRaised,
)
from shared.envelope import Envelope, utcnow_ms

log = logging.getLogger(__name__)


now_ms = utcnow_ms  # the store keeps milliseconds: a reply and a later read agree to the digit


def new_supply_order_id(kind: str) -> str:
    return f"{'MO' if kind == 'production' else 'PO'}-{uuid.uuid4().hex[:12].upper()}"


def ref(order: SupplyOrder) -> SupplyOrderRef:
    return SupplyOrderRef(supply_order_id=order.supply_order_id, kind=order.kind, sku=order.sku,
                          quantity=order.quantity, expected_at=order.expected_at.isoformat())  # fmt: skip


def supply_orders_for(cmd: RaiseSupply, settings: Settings) -> list[SupplyOrder]:
    """One supply order per SKU short (R4.2), the shortages of a SKU added up."""
    wanted: dict[str, tuple[int, str, int]] = {}
    for s in cmd.shortages:
        quantity = wanted.get(s.sku, (0, s.sourcing, s.lead_time_days))[0] + s.quantity
        wanted[s.sku] = (quantity, s.sourcing, s.lead_time_days)
        if s.lead_time_days > MAX_LEAD_TIME_DAYS:  # stored before the door bounded it (issue 7)
            log.warning("lead time over the bound; expecting the goods at the bound",
                        extra={"sku": s.sku, "lead_time_days": s.lead_time_days})  # fmt: skip
    now = now_ms()
    return [
        SupplyOrder.raise_for(
            supply_order_id=new_supply_order_id(kind_for(sourcing)),
            order_id=cmd.order_id,
            sku=sku,
            quantity=quantity,
            sourcing=sourcing,
            lead_time_days=lead,
            now=now,
            default_lead_time_days=settings.default_lead_time_days,
        )
        for sku, (quantity, sourcing, lead) in wanted.items()
    ]


async def raise_supply(cmd: RaiseSupply, env: Envelope, ful: Fulfillment) -> None:
    """R4.2: a production order per ``make`` shortage, a purchase order per ``buy`` shortage."""
    found = await ful.requests.load(cmd.order_id)
    if found is not None and found.aggregate.is_cancelled:
        return await _raised_too_late(ful, cmd.order_id)
    # The supply orders first, each idempotent by (order, SKU): a crash before the request is
    # written leaves them for the redelivery to find, and its request then records them.
    raised = [await ful.supply_orders.add(order, env.trace) for order in supply_orders_for(cmd, ful.settings)]
    ids = [order.supply_order_id for order in raised]
    reply = SupplyRaised(order_id=cmd.order_id, supply_orders=[ref(order) for order in raised])

    def record(request: SupplyRequest) -> Decision:
        if request.is_cancelled:
            return []  # a CancelSupply closed it meanwhile: what this raised is cancelled below
        if all(i in request.supply_order_ids for i in ids):
            return Again([reply])  # a duplicate: every supply order exists and is recorded
        request.record(ids)
        return [reply]

    if found is None:
        first = SupplyRequest(cmd.order_id)
        first.record(ids)
        result = await ful.insert_or_change(cmd.order_id, record, first, [reply], env)
    else:
        result = await ful.change(ful.requests, cmd.order_id, record, env)
    if result.loaded.aggregate.is_cancelled:
        await _raised_too_late(ful, cmd.order_id)
    elif result.written:
        log.info("supply raised", extra={"supply_order_ids": ids})


async def _raised_too_late(ful: Fulfillment, order_id: str) -> None:
    await cancel_open(ful, order_id)  # what a RaiseSupply racing the cancel may have raised
    log.info("supply already cancelled for the order; late RaiseSupply ignored")


async def cancel_supply(cmd: CancelSupply, env: Envelope, ful: Fulfillment) -> None:
    """R7.1: cancel the order's open supply orders; before any RaiseSupply it leaves a tombstone."""

    def tombstone() -> tuple[SupplyRequest, list[Message]]:
        nothing = SupplyCancelled(order_id=cmd.order_id, supply_order_ids=[])
        return SupplyRequest.tombstone(cmd.order_id), [nothing]

    def close(request: SupplyRequest) -> Decision:
        request.cancel([])  # written first: a RaiseSupply running now sees it and cancels what it raised
        return []

    closed = await ful.change_or_insert(cmd.order_id, close, tombstone, env)
    if closed.sent:
        return  # the tombstone went in with its reply: nothing had been raised
    cancelled = await cancel_open(ful, cmd.order_id)

    def answer(request: SupplyRequest) -> Decision:
        if not closed.written and all(i in request.cancelled_ids for i in cancelled):
            # A duplicate with nothing new: answer again under the same id, writing nothing.
            return Again([SupplyCancelled(order_id=cmd.order_id, supply_order_ids=request.cancelled_ids)])
        request.cancel(cancelled)
        return [SupplyCancelled(order_id=cmd.order_id, supply_order_ids=request.cancelled_ids)]

    await ful.change(ful.requests, cmd.order_id, answer, env)


async def cancel_open(ful: Fulfillment, order_id: str) -> list[str]:
    """Cancel the order's open supply orders (completed ones stay as stock, R7.1); the ids of all
    its cancelled ones, so that a reply after a crash still names what an earlier run cancelled."""
    now = now_ms()

    def cancel(order: SupplyOrder) -> Decision:
        order.cancel(now)  # completed meanwhile: nothing changes and nothing is written
        return []

    cancelled: list[str] = []
    for order in await ful.supply_orders.of_order(order_id):
        if order.status is SupplyStatus.OPEN:
            changed = await ful.change(ful.supply_orders, order.supply_order_id, cancel, None)
            order = changed.loaded.aggregate
        if order.status is SupplyStatus.CANCELLED:
            cancelled.append(order.supply_order_id)
    return cancelled
