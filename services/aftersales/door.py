"""The door of the return saga: a return request checked against the order and the policy (R8.3)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

from services.aftersales.deps import Deps
from services.aftersales.domain import (
    IdempotencyKeyReused,
    Return,
    UnknownOrder,
    merge_quantities,
    review,
    units_claimed,
)
from services.aftersales.ports import OrderReturns, ReturnsOfOrder
from shared.aggregates import Decision

log = logging.getLogger(__name__)


def fingerprint(order_id: str, lines: list[tuple[str, int]], reason: str) -> str:
    """What makes two requests "the same" for an Idempotency-Key."""
    canonical = json.dumps([order_id, sorted(merge_quantities(lines).items()), reason])
    return hashlib.sha256(canonical.encode()).hexdigest()


async def request_return(
    deps: Deps,
    *,
    order_id: str,
    lines: list[tuple[str, int]],
    reason: str,
    by: str,
    idempotency_key: str | None = None,
    acts_for: Callable[[str], bool] = lambda _customer_id: True,
) -> Return:
    """Check the request against the order and the units already returned; store it (R8.3).

    With an ``idempotency_key`` a repeated request returns the return the first one created.
    An order of a customer the caller does not act for is unknown to it (``acts_for``, issue 7).
    """
    key_print = fingerprint(order_id, lines, reason)
    number = await _claimed(deps, idempotency_key, key_print)
    if number is not None and (done := await deps.returns.load(number)) is not None:
        if not acts_for(done.aggregate.customer_id):
            raise UnknownOrder(f"there is no order {order_id}", fields={"order_id": "unknown order"})
        return done.aggregate
    order = await deps.orders.get(order_id)
    if order is None or not acts_for(order.customer_id):
        raise UnknownOrder(f"there is no order {order_id}", fields={"order_id": "unknown order"})
    now = deps.clock()
    if number is None:
        review(order, lines, units_claimed(await deps.returns.for_order(order_id)))  # refused: no number used
        number = await _take_number(deps, idempotency_key, key_print, now)

    def add(returns: OrderReturns) -> Decision:
        if returns.find(number) is None:  # else a twin request with the same key stored it first
            returns.new = Return.request(
                return_id=number,
                order=order,
                lines=lines,
                reason=reason,
                already_returned=units_claimed(returns.earlier),
                order_seq=max((r.order_seq for r in returns.earlier), default=0) + 1,
                by=by,
                at=now,
            )
        return []

    # A lost race (another return of the order took the next number) is decided again on the
    # winner: the units it claimed may leave too few for this request (ReturnRefused).
    changed = await deps.change(ReturnsOfOrder(deps.returns), order_id, add, None)
    ret = changed.loaded.aggregate.find(number)
    assert ret is not None
    if changed.written:
        log.info("return requested", extra={"order_id": order_id, "return_id": ret.return_id})
    return ret


async def _claimed(deps: Deps, key: str | None, key_print: str) -> str | None:
    """The return number an Idempotency-Key already names: created, or interrupted before it was."""
    claimed = await deps.keys.get(key) if key is not None else None
    if claimed is None:
        return None
    if claimed.fingerprint != key_print:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different return request",
            fields={"Idempotency-Key": "already used"},
        )
    return claimed.target


async def _take_number(deps: Deps, key: str | None, key_print: str, now: datetime) -> str:
    number = await deps.returns.next_return_id(now)
    if key is not None and (await deps.keys.claim(key, key_print, number)).target != number:
        claimed = await _claimed(deps, key, key_print)  # a twin claimed the key first: converge on it
        assert claimed is not None
        return claimed
    return number
