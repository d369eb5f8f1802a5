"""Fulfillment's steps of an order change (issue 8, R7.2, R4.2): check supply, change supply.

CheckSupplyChange is read-only: the answer is published at once (no write), under the id that
derives from the command's, so a redelivery is answered under the same id.

ChangeSupply sets each target SKU's open supply order to what is still missing: raised (none
open), resized, or cancelled (0); a production order whose production started is kept (R7.2).
Several supply orders are several documents and there are no transactions, so each step is
idempotent by the change id on its own document (a raise by the key (order, SKU, change id),
a resize or cancel by ``changed_by``), the answer is read back from the stored supply orders, and
only then kept in the order's supply request with the reply staged in the same write. A crash
half-way is finished by the redelivery; a change answered before is answered again (``Again``)
with the stored answer, writing nothing. Tombstone choice as for RaiseSupply: a ChangeSupply
that finds the request cancelled (the compensation ran) raises nothing and replies nothing, and
whatever a racing change raised is cancelled at once.
"""

from __future__ import annotations

import logging

from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import (
    DomainError,
    Step,
    SupplyOrder,
    SupplyRequest,
    applied,
    kind_for,
    open_for,
    outcome,
    refusals,
    step_for,
)
from services.fulfillment.handlers import cancel_open, new_supply_order_id, now_ms, ref
from shared.aggregates import Again, Decision
from shared.contracts import (
    ChangeSupply,
    CheckSupplyChange,
    Message,
    SupplyChangeChecked,
    SupplyChanged,
    SupplyTarget,
)
from shared.envelope import Envelope

log = logging.getLogger(__name__)


async def check_supply_change(cmd: CheckSupplyChange, env: Envelope, ful: Fulfillment) -> None:
    """R7.2: may the order's open supply orders of ``skus`` change? Production that started says
    no, with the reason; everything else says yes. Changes nothing."""
    refused = refusals(await ful.supply_orders.of_order(cmd.order_id), cmd.skus)
    reply = SupplyChangeChecked(order_id=cmd.order_id, change_id=cmd.change_id, refused=refused)
    await ful.supply_orders.publish(ful.envelopes([reply], env))
    if refused:
        log.info("supply change refused", extra={"change_id": cmd.change_id, "skus": sorted(refused)})


def targets_of(cmd: ChangeSupply) -> dict[str, SupplyTarget]:
    """One target per SKU, in the command's order (a SKU named twice: the last one counts)."""
    targets: dict[str, SupplyTarget] = {}
    for target in cmd.targets:
        targets.pop(target.sku, None)
        targets[target.sku] = target
    return targets


async def change_supply(cmd: ChangeSupply, env: Envelope, ful: Fulfillment) -> None:
    """Set each target SKU's open supply order to its target (R4.2), keeping started production
    (R7.2); answer SupplyChanged once per change id."""
    if not cmd.change_id:  # "" is the key of RaiseSupply's supply orders
        raise DomainError("a ChangeSupply names its change", {"change_id": "must not be empty"})
    found = await ful.requests.load(cmd.order_id)
    if found is not None and found.aggregate.is_cancelled:
        await cancel_open(ful, cmd.order_id)  # what a change racing the cancel may have raised
        log.info("supply already cancelled for the order; late ChangeSupply ignored")
        return
    if found is not None and cmd.change_id in found.aggregate.changes:
        answered = found.aggregate.changes[cmd.change_id]
        await ful.change(ful.requests, cmd.order_id, lambda _: Again([answered]), env)
        return
    targets = targets_of(cmd)
    for target in targets.values():
        await _set_supply(ful, cmd, target, env.trace)
    after = outcome(await ful.supply_orders.of_order(cmd.order_id),
                    {sku: t.quantity for sku, t in targets.items()}, cmd.change_id)  # fmt: skip
    reply = SupplyChanged(order_id=cmd.order_id, change_id=cmd.change_id,
                          supply_orders=[ref(o) for o in after.supply_orders], cancelled=after.cancelled,
                          kept=after.kept)  # fmt: skip

    def answer(request: SupplyRequest) -> Decision:
        if request.is_cancelled:
            return []  # a CancelSupply closed it meanwhile: what this raised is cancelled below
        if not request.answer_change(reply):
            return Again([request.changes[cmd.change_id]])  # a twin answered first
        return [reply]

    def first() -> tuple[SupplyRequest, list[Message]]:
        request = SupplyRequest(cmd.order_id)  # no RaiseSupply before: the change raises the first
        request.answer_change(reply)
        return request, [reply]

    result = await ful.change_or_insert(cmd.order_id, answer, first, env)
    if result.loaded.aggregate.is_cancelled:
        await cancel_open(ful, cmd.order_id)
    elif result.written:
        log.info("supply changed", extra={"change_id": cmd.change_id, "cancelled": after.cancelled,
                                          "kept": sorted(after.kept)})  # fmt: skip


async def _set_supply(
    ful: Fulfillment, cmd: ChangeSupply, target: SupplyTarget, trace: dict[str, str]
) -> None:
    """One SKU's step, idempotent by the change id: raise, resize, cancel, or keep."""
    orders = [o for o in await ful.supply_orders.of_order(cmd.order_id) if o.sku == target.sku]
    if applied(orders, target.sku, cmd.change_id):
        return  # done by an earlier delivery of this change
    open_order = open_for(orders, target.sku)
    step = step_for(open_order, target.quantity)
    if step is Step.RAISE:
        await ful.supply_orders.add(_raised(ful, cmd, target), trace)  # the key makes a twin's a no-op
    elif step in (Step.RESIZE, Step.CANCEL) and open_order is not None:
        now = now_ms()

        def change(order: SupplyOrder) -> Decision:
            order.change_to(target.quantity, cmd.change_id, now)  # decided again on a fresh read
            return []

        await ful.change(ful.supply_orders, open_order.supply_order_id, change, None)


def _raised(ful: Fulfillment, cmd: ChangeSupply, target: SupplyTarget) -> SupplyOrder:
    """A new supply order for what is still missing: production for ``make``, purchase for ``buy``,
    expected after the lead time (R4.2, as RaiseSupply raises them)."""
    return SupplyOrder.raise_for(
        supply_order_id=new_supply_order_id(kind_for(target.sourcing)),
        order_id=cmd.order_id,
        sku=target.sku,
        quantity=target.quantity,
        sourcing=target.sourcing,
        lead_time_days=target.lead_time_days,
        now=now_ms(),
        default_lead_time_days=ful.settings.default_lead_time_days,
        raised_by_change=cmd.change_id,
    )
