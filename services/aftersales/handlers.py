"""Use cases of the return saga: the return through ``Deps.change`` (load it, let the domain decide,
save it with the messages it causes, flush them; decided again on a lost race)."""

from __future__ import annotations

import logging

from services.aftersales.deps import Deps
from services.aftersales.domain import RefundLedger, Return, ReturnNotFound
from services.aftersales.door import request_return
from shared.aggregates import Decision, NotFound
from shared.contracts import CreditNoteIssued, Message, ReturnRestocked
from shared.envelope import Envelope
from shared.errors import PermanentError

log = logging.getLogger(__name__)

__all__ = ["Deps", "credit_note_issued", "get_return", "inspect_return", "request_return", "return_restocked"]


def _not_found(return_id: str) -> ReturnNotFound:
    return ReturnNotFound(f"there is no return {return_id}", fields={"return_id": "unknown return"})


async def get_return(deps: Deps, return_id: str) -> Return:
    """One return with its history (R9.3)."""
    loaded = await deps.returns.load(return_id)
    if loaded is None:
        raise _not_found(return_id)
    return loaded.aggregate


async def inspect_return(deps: Deps, *, return_id: str, result: str, note: str, by: str) -> Return:
    """The inspection on arrival: pass -> restock and refund, fail -> rejected (R8.3)."""
    at = deps.clock()
    try:
        changed = await deps.change(
            deps.returns, return_id, lambda ret: ret.inspect(result, by=by, at=at, note=note), None
        )
    except NotFound as exc:
        raise _not_found(return_id) from exc
    return changed.loaded.aggregate


def _about(ret: Return, order_id: str, trigger: type[Message]) -> Return:
    if ret.order_id != order_id:
        name = trigger.__name__
        raise PermanentError(f"{name} for {ret.return_id} names order {order_id}, not {ret.order_id}")
    return ret


def _ignored(return_id: str, trigger: type[Message], ret: Return | None) -> None:
    name = trigger.__name__
    if ret is None:
        log.warning("reply for an unknown return ignored", extra={"return_id": return_id, "type": name})
    else:
        extra = {"return_id": return_id, "type": name, "status": ret.status.value}
        log.info("reply not expected now, ignored", extra=extra)


async def return_restocked(message: ReturnRestocked, envelope: Envelope, deps: Deps) -> None:
    """Goods are back on hand: settle the refund in the order's ledger, then ask billing for it."""
    trigger = ReturnRestocked
    loaded = await deps.returns.load(message.return_id)
    ret = _about(loaded.aggregate, message.order_id, trigger) if loaded else None
    if ret is None or not ret.awaits(trigger):
        return _ignored(message.return_id, trigger, ret)

    def settle(ledger: RefundLedger) -> Decision:
        # Once per return: a redelivery (or a retry after a lost race) finds it settled, same amount.
        ledger.settle(ret.return_id, ret.lines, order_total=ret.order_total, ordered_units=ret.ordered_units)
        return []

    # The ledger is written first: if the return's write then loses a race or the process dies,
    # the retry finds this return's refund already settled and sends the same amount.
    ledger = (await deps.change(deps.ledgers, ret.order_id, settle, None)).loaded.aggregate
    at = deps.clock()

    def restocked(current: Return) -> Decision:
        return current.on_return_restocked(ledger, at=at, by=envelope.producer)

    changed = await deps.change(deps.returns, message.return_id, restocked, envelope)
    if not changed.written:
        _ignored(message.return_id, trigger, changed.loaded.aggregate)


async def credit_note_issued(message: CreditNoteIssued, envelope: Envelope, deps: Deps) -> None:
    """Billing booked the refund: complete the return and publish ReturnCompleted (R8.3)."""
    trigger, at = CreditNoteIssued, deps.clock()

    def completed(ret: Return) -> Decision:
        return _about(ret, message.order_id, trigger).on_credit_note_issued(
            message.credit_note_id, message.total, at=at, by=envelope.producer
        )

    try:
        changed = await deps.change(deps.returns, message.return_id, completed, envelope)
    except NotFound:
        return _ignored(message.return_id, trigger, None)
    if not changed.written:
        _ignored(message.return_id, trigger, changed.loaded.aggregate)
