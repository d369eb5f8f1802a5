"""Use cases of the return saga: load the return, let the domain decide, save it with its messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.aftersales.adapters import Loaded, MongoRefundLedgerStore, MongoReturnStore, OrderLookup
from services.aftersales.domain import Return, ReturnNotFound, UnknownOrder, review, units_claimed
from services.aftersales.settings import Settings
from shared.contracts import CreditNoteIssued, Message, ReturnRestocked
from shared.envelope import Envelope, new_envelope, utcnow
from shared.errors import ConcurrencyError, PermanentError

log = logging.getLogger(__name__)
T = TypeVar("T")
PRODUCER = "aftersales"


@dataclass
class Deps:
    """What the handlers need; ``bootstrap`` builds it, tests may pass their own adapters."""

    settings: Settings
    returns: MongoReturnStore
    ledgers: MongoRefundLedgerStore
    orders: OrderLookup
    clock: Callable[[], datetime] = field(default=utcnow)


def _envelopes(messages: Iterable[Message], causation: Envelope | None) -> list[Envelope]:
    return [new_envelope(m, producer=PRODUCER, causation=causation) for m in messages]


async def _with_retries(attempts: int, step: Callable[[], Awaitable[T]]) -> T:
    """Run ``step`` again from a fresh read when an optimistic write lost a race."""
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except ConcurrencyError:
            if attempt == attempts:
                raise
            log.info("write lost a race, deciding again", extra={"attempt": attempt})
    raise AssertionError("unreachable")


async def request_return(
    deps: Deps, *, order_id: str, lines: list[tuple[str, int]], reason: str, by: str
) -> Return:
    """Check the request against the order and the units already returned; store it (R8.3)."""
    order = await deps.orders.get(order_id)
    if order is None:
        raise UnknownOrder(f"there is no order {order_id}", fields={"order_id": "unknown order"})
    now = deps.clock()
    taken: list[str] = []  # the return number, taken once the request passes the policy

    async def attempt() -> Return:
        earlier = await deps.returns.for_order(order_id)
        already = units_claimed(earlier)
        review(order, lines, already)  # refused requests use up no return number
        if not taken:
            taken.append(await deps.returns.next_return_id(now))
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
        return ret

    ret = await _with_retries(deps.settings.write_attempts, attempt)
    log.info("return requested", extra={"order_id": order_id, "return_id": ret.return_id})
    return ret


async def _load(deps: Deps, return_id: str) -> Loaded:
    loaded = await deps.returns.get(return_id)
    if loaded is None:
        raise ReturnNotFound(f"there is no return {return_id}", fields={"return_id": "unknown return"})
    return loaded


async def get_return(deps: Deps, return_id: str) -> Return:
    """One return with its history (R9.3)."""
    return (await _load(deps, return_id)).ret


async def inspect_return(deps: Deps, *, return_id: str, result: str, note: str, by: str) -> Return:
    """The inspection on arrival: pass -> restock and refund, fail -> rejected (R8.3)."""

    async def attempt() -> Return:
        loaded = await _load(deps, return_id)
        messages = loaded.ret.inspect(result, by=by, at=deps.clock(), note=note)
        if messages:
            await deps.returns.save(loaded, _envelopes(messages, None))
        return loaded.ret

    return await _with_retries(deps.settings.write_attempts, attempt)


async def _reply(deps: Deps, return_id: str, order_id: str, trigger: str) -> Loaded | None:
    """The return a reply is about, or None when the reply must be ignored (unknown or not awaited)."""
    loaded = await deps.returns.get(return_id)
    if loaded is None:
        log.warning("reply for an unknown return ignored", extra={"return_id": return_id, "type": trigger})
        return None
    if loaded.ret.order_id != order_id:
        raise PermanentError(f"{trigger} for {return_id} names order {order_id}, not {loaded.ret.order_id}")
    if not loaded.ret.awaits(trigger):
        log.info(
            "reply not expected now, ignored",
            extra={"return_id": return_id, "type": trigger, "status": loaded.ret.status.value},
        )
        return None
    return loaded


async def return_restocked(deps: Deps, message: ReturnRestocked, envelope: Envelope) -> None:
    """Goods are back on hand: settle the refund in the order's ledger, then ask billing for it."""

    async def attempt() -> None:
        loaded = await _reply(deps, message.return_id, message.order_id, "ReturnRestocked")
        if loaded is None:
            return
        # The ledger is written first: if the return's write then loses a race or the process dies,
        # the retry finds this return's refund already settled and sends the same amount.
        ledger = await deps.ledgers.get(loaded.ret.order_id)
        messages = loaded.ret.on_return_restocked(ledger, at=deps.clock(), by=envelope.producer)
        await deps.ledgers.save(ledger)
        await deps.returns.save(loaded, _envelopes(messages, envelope))

    await _with_retries(deps.settings.write_attempts, attempt)


async def credit_note_issued(deps: Deps, message: CreditNoteIssued, envelope: Envelope) -> None:
    """Billing booked the refund: complete the return and publish ReturnCompleted (R8.3)."""

    async def attempt() -> None:
        loaded = await _reply(deps, message.return_id, message.order_id, "CreditNoteIssued")
        if loaded is None:
            return
        messages = loaded.ret.on_credit_note_issued(
            message.credit_note_id, message.total, at=deps.clock(), by=envelope.producer
        )
        await deps.returns.save(loaded, _envelopes(messages, envelope))

    await _with_retries(deps.settings.write_attempts, attempt)
