"""The door of the return saga: a return request checked against the order and the policy (R8.3)."""

from __future__ import annotations

import hashlib
import json
import logging

from services.aftersales.deps import Deps, with_retries
from services.aftersales.domain import (
    IdempotencyKeyReused,
    Return,
    UnknownOrder,
    merge_quantities,
    review,
    units_claimed,
)
from shared.errors import ConcurrencyError

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
) -> Return:
    """Check the request against the order and the units already returned; store it (R8.3).

    With an ``idempotency_key`` a repeated request returns the return the first one created.
    """
    key_print = fingerprint(order_id, lines, reason)
    taken: list[str] = []  # the return number, taken once the request passes the policy

    async def adopt_claimed_number() -> None:
        # The key already names a return: created, or interrupted before it was (then resume it).
        claimed = await deps.keys.get(idempotency_key) if idempotency_key is not None else None
        if claimed is None:
            return
        if claimed["fingerprint"] != key_print:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different return request",
                fields={"Idempotency-Key": "already used"},
            )
        taken[:] = [claimed["return_id"]]

    await adopt_claimed_number()
    order = await deps.orders.get(order_id)
    if order is None:
        raise UnknownOrder(f"there is no order {order_id}", fields={"order_id": "unknown order"})
    now = deps.clock()

    async def attempt() -> Return:
        if taken and (done := await deps.returns.get(taken[0])) is not None:
            return done.ret
        earlier = await deps.returns.for_order(order_id)
        already = units_claimed(earlier)
        review(order, lines, already)  # refused requests use up no return number
        if not taken:
            number = await deps.returns.next_return_id(now)
            if idempotency_key is not None and not await deps.keys.claim(idempotency_key, number, key_print):
                await adopt_claimed_number()  # a twin request claimed the key first: converge on its return
                raise ConcurrencyError(f"Idempotency-Key {idempotency_key} was claimed meanwhile")
            taken.append(number)
        ret = Return.request(
            return_id=taken[0],
            order=order,
            lines=lines,
            reason=reason,
            already_returned=already,
            order_seq=max((r.order_seq for r in earlier), default=0) + 1,
            by=by,
            at=now,
        )
        await deps.returns.add(ret, [])
        log.info("return requested", extra={"order_id": order_id, "return_id": ret.return_id})
        return ret

    return await with_retries(deps.settings.write_attempts, attempt)
