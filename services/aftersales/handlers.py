"""Use cases of the return saga: load the return, let the domain decide, save it with its messages."""

from __future__ import annotations

import logging

from services.aftersales.adapters import Loaded
from services.aftersales.deps import Deps, envelopes, with_retries
from services.aftersales.domain import Return, ReturnNotFound
from services.aftersales.door import request_return
from shared.contracts import CreditNoteIssued, ReturnRestocked
from shared.envelope import Envelope
from shared.errors import PermanentError

log = logging.getLogger(__name__)

__all__ = ["Deps", "credit_note_issued", "get_return", "inspect_return", "request_return", "return_restocked"]


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
            await deps.returns.save(loaded, envelopes(messages, None))
        return loaded.ret

    return await with_retries(deps.settings.write_attempts, attempt)


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


async def return_restocked(message: ReturnRestocked, envelope: Envelope, deps: Deps) -> None:
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
        await deps.returns.save(loaded, envelopes(messages, envelope))

    await with_retries(deps.settings.write_attempts, attempt)


async def credit_note_issued(message: CreditNoteIssued, envelope: Envelope, deps: Deps) -> None:
    """Billing booked the refund: complete the return and publish ReturnCompleted (R8.3)."""

    async def attempt() -> None:
        loaded = await _reply(deps, message.return_id, message.order_id, "CreditNoteIssued")
        if loaded is None:
            return
        messages = loaded.ret.on_credit_note_issued(
            message.credit_note_id, message.total, at=deps.clock(), by=envelope.producer
        )
        await deps.returns.save(loaded, envelopes(messages, envelope))

    await with_retries(deps.settings.write_attempts, attempt)
