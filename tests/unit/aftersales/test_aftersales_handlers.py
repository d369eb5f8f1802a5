"""Aftersales' use cases against the in-memory stores (tests/support/fakes_aftersales.py): what a
request, an inspection or a reply of the return saga writes and sends, and what a duplicate, a
lost race or a crash half-way does. The stores' behaviour is held to the Mongo adapters' by
tests/integration/aftersales/test_return_store_contract.py.

Aftersales consumes replies, not commands: a reply it does not await (a duplicate, or one that
comes late) writes nothing and sends nothing (ARCHITECTURE.md "Duplicates")."""

from __future__ import annotations

import pytest

from services.aftersales import handlers
from services.aftersales.deps import Deps
from services.aftersales.domain import InvalidTransition, OrderSnapshot, ReturnNotFound, ReturnRefused
from services.aftersales.settings import Settings
from shared.contracts import CreditNoteIssued, IssueCreditNote, ReturnRestocked
from shared.envelope import Envelope, new_envelope, reply_id
from shared.errors import PermanentError
from tests.support.fakes import FakeBus, FakeIdempotencyKeys
from tests.support.fakes_aftersales import (
    FakeOrderLookup,
    FakeRefundLedgerStore,
    FakeReturnStore,
)
from tests.unit.aftersales.builders import AT, an_order


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def order() -> OrderSnapshot:
    return an_order(total=28_800, **{"SKU-A": 2, "SKU-B": 1})


@pytest.fixture
def deps(bus: FakeBus, order: OrderSnapshot) -> Deps:
    return Deps(Settings(), FakeReturnStore(bus), FakeRefundLedgerStore(bus), FakeOrderLookup(order),
                FakeIdempotencyKeys(), clock=lambda: AT)  # fmt: skip


async def requested(deps: Deps, order: OrderSnapshot, key: str | None = None, **lines: int) -> str:
    ret = await handlers.request_return(
        deps,
        order_id=order.order_id,
        lines=list((lines or {"SKU-A": 1}).items()),
        reason="changed my mind",
        by="customer",
        idempotency_key=key,
    )
    return ret.return_id


async def passed(deps: Deps, order: OrderSnapshot, **lines: int) -> str:
    return_id = await requested(deps, order, **lines)
    await handlers.inspect_return(deps, return_id=return_id, result="pass", note="", by="qc")
    return return_id


def restocked(order: OrderSnapshot, return_id: str) -> Envelope:
    return new_envelope(ReturnRestocked(order_id=order.order_id, return_id=return_id, lines=[]),
                        producer="inventory")  # fmt: skip


def credited(order: OrderSnapshot, return_id: str, total: int = -10_000) -> Envelope:
    message = CreditNoteIssued(
        order_id=order.order_id, return_id=return_id, credit_note_id="CN1", total=total, tax=0
    )
    return new_envelope(message, producer="billing")


async def delivered(envelope: Envelope, deps: Deps) -> None:
    handler = handlers.return_restocked if envelope.type == "ReturnRestocked" else handlers.credit_note_issued
    await handler(envelope.message(), envelope, deps)  # type: ignore[arg-type]


# --- the door (R8.3) ----------------------------------------------------------------------------


async def test_a_request_within_the_policy_is_stored_once_and_sends_nothing(deps, order, bus):
    return_id = await requested(deps, order, **{"SKU-A": 2})

    ret = await handlers.get_return(deps, return_id)
    assert (ret.status.value, ret.order_seq, return_id) == ("awaiting_inspection", 1, "RT202405001")
    assert deps.returns.writes == 1 and bus.published == []


async def test_a_refused_request_writes_nothing_and_uses_up_no_return_number(deps, order):
    with pytest.raises(ReturnRefused):
        await requested(deps, order, **{"SKU-A": 3})  # two were shipped

    assert (deps.returns.writes, deps.returns.counters) == (0, {})


async def test_the_same_idempotency_key_and_body_give_back_the_same_return_without_a_second_write(
    deps, order
):
    first = await requested(deps, order, key="k-1")

    again = await requested(deps, order, key="k-1")

    assert again == first and deps.returns.writes == 1


async def test_a_request_losing_its_race_to_another_return_of_the_order_is_decided_again_on_it(deps, order):
    async def another_request() -> None:  # takes return no. 1 of the order between our read and write
        await requested(deps, order, **{"SKU-A": 1})

    deps.returns.before_next_save.append(another_request)
    ours = await requested(deps, order, **{"SKU-A": 1})

    listed = await deps.returns.for_order(order.order_id)
    assert [(r.order_seq, r.return_id == ours) for r in listed] == [(1, False), (2, True)]


async def test_a_request_that_the_winner_of_its_race_left_too_few_units_for_is_refused(deps, order):
    async def another_request() -> None:
        await requested(deps, order, **{"SKU-A": 2})

    deps.returns.before_next_save.append(another_request)
    with pytest.raises(ReturnRefused):
        await requested(deps, order, **{"SKU-A": 2})  # decided again: nothing of SKU-A is left

    assert len(await deps.returns.for_order(order.order_id)) == 1


async def test_racing_requests_with_one_idempotency_key_converge_on_one_return(deps, order):
    twin: list[str] = []

    async def twin_request() -> None:  # the same request again, while ours is about to write
        twin.append(await requested(deps, order, key="k-race"))

    deps.returns.before_next_save.append(twin_request)
    ours = await requested(deps, order, key="k-race")

    assert twin == [ours] and deps.returns.writes == 1


# --- the inspection -----------------------------------------------------------------------------


async def test_a_passed_inspection_writes_once_and_sends_the_goods_back_to_stock_once(deps, order, bus):
    return_id = await requested(deps, order)

    ret = await handlers.inspect_return(deps, return_id=return_id, result="pass", note="sellable", by="qc")

    assert ret.status.value == "restocking" and deps.returns.writes == 2
    assert bus.types() == ["RestockReturn"]
    assert (await deps.returns.load(return_id)).doc["outbox"] == {}  # cleared by id after the publish


async def test_the_same_verdict_again_writes_nothing_and_sends_nothing(deps, order, bus):
    return_id = await passed(deps, order)

    ret = await handlers.inspect_return(deps, return_id=return_id, result="pass", note="", by="qc")

    assert ret.status.value == "restocking" and deps.returns.writes == 2 and bus.types() == ["RestockReturn"]


async def test_an_inspection_losing_its_race_is_decided_again_and_refused_when_the_other_verdict_won(
    deps, order, bus
):
    return_id = await requested(deps, order)

    async def failed_first() -> None:
        await handlers.inspect_return(deps, return_id=return_id, result="fail", note="scratched", by="qc-2")

    deps.returns.before_next_save.append(failed_first)
    with pytest.raises(InvalidTransition):
        await handlers.inspect_return(deps, return_id=return_id, result="pass", note="", by="qc")

    assert bus.types() == ["ReturnRejected"]
    assert (await handlers.get_return(deps, return_id)).status.value == "rejected"


async def test_inspecting_an_unknown_return_is_not_found(deps):
    with pytest.raises(ReturnNotFound):
        await handlers.inspect_return(deps, return_id="RT-NOPE", result="pass", note="", by="qc")


# --- the replies of the return saga -------------------------------------------------------------


async def test_restocked_goods_settle_the_refund_then_ask_billing_for_it_once(deps, order, bus):
    return_id = await passed(deps, order, **{"SKU-A": 1})
    reply = restocked(order, return_id)

    await delivered(reply, deps)

    command = bus.published[-1]
    assert isinstance(command.message(), IssueCreditNote) and command.payload["total"] == 10_000
    assert command.message_id == reply_id(reply, command.message())
    assert (deps.ledgers.writes, deps.returns.writes) == (1, 3)  # the ledger first, then the return


async def test_a_duplicate_restocked_reply_writes_nothing_and_sends_nothing(deps, order, bus):
    return_id = await passed(deps, order)
    reply = restocked(order, return_id)
    await delivered(reply, deps)
    writes, sent = (deps.ledgers.writes, deps.returns.writes), list(bus.published)

    await delivered(reply, deps)  # the same delivery again
    await delivered(restocked(order, return_id), deps)  # the same news under a new id

    assert ((deps.ledgers.writes, deps.returns.writes), bus.published) == (writes, sent)


async def test_a_restocked_reply_that_died_after_settling_sends_the_same_refund_when_redelivered(
    deps, order, bus
):
    return_id = await passed(deps, order, **{"SKU-A": 2, "SKU-B": 1})
    reply = restocked(order, return_id)

    async def crash() -> None:
        raise ConnectionError("process killed")

    deps.returns.before_next_save.append(crash)
    with pytest.raises(ConnectionError):
        await delivered(reply, deps)  # the ledger was written, the return was not
    await delivered(reply, deps)  # the redelivery

    [command] = [e for e in bus.published if e.type == "IssueCreditNote"]
    assert command.payload["total"] == 28_800  # everything came back: the whole order total
    assert deps.ledgers.writes == 1  # settled once: the redelivery found it settled


async def test_a_restocked_reply_losing_its_race_to_its_twin_sends_the_credit_note_request_once(
    deps, order, bus
):
    return_id = await passed(deps, order)
    reply = restocked(order, return_id)

    async def twin() -> None:  # the other copy of the delivery writes the return first
        await delivered(reply, deps)

    deps.returns.before_next_save.append(twin)
    await delivered(reply, deps)

    assert bus.types() == ["RestockReturn", "IssueCreditNote"]
    assert (await handlers.get_return(deps, return_id)).status.value == "refunding"


async def test_two_returns_of_one_order_settle_their_refunds_one_after_the_other(deps, order, bus):
    first = await passed(deps, order, **{"SKU-A": 2})
    last = await passed(deps, order, **{"SKU-B": 1})

    async def first_settles() -> None:  # the other return's refund is settled between our read and write
        await delivered(restocked(order, first), deps)

    deps.ledgers.before_next_save.append(first_settles)
    await delivered(restocked(order, last), deps)

    totals = {
        e.payload["return_id"]: e.payload["total"] for e in bus.published if e.type == "IssueCreditNote"
    }
    assert totals == {first: 20_000, last: 8_800}  # decided again: the last unit back refunds the rest


async def test_a_credit_note_completes_the_return_and_tells_everyone_once(deps, order, bus):
    return_id = await passed(deps, order)
    await delivered(restocked(order, return_id), deps)
    note = credited(order, return_id)

    await delivered(note, deps)
    await delivered(note, deps)  # a duplicate: not awaited any more

    assert bus.types() == ["RestockReturn", "IssueCreditNote", "ReturnCompleted"]
    done = bus.published[-1]
    assert done.message_id == reply_id(note, done.message())
    assert (await handlers.get_return(deps, return_id)).status.value == "completed"


async def test_a_credit_note_before_the_refund_was_asked_for_is_ignored(deps, order, bus):
    return_id = await passed(deps, order)
    writes = deps.returns.writes

    await delivered(credited(order, return_id), deps)

    assert deps.returns.writes == writes and bus.types() == ["RestockReturn"]


async def test_replies_about_an_unknown_return_are_ignored_and_replies_naming_another_order_are_parked(
    deps, order, bus
):
    return_id = await passed(deps, order)
    stranger = an_order()

    await delivered(restocked(order, "RT-NOPE"), deps)
    await delivered(credited(order, "RT-NOPE"), deps)
    with pytest.raises(PermanentError):
        await delivered(restocked(stranger, return_id), deps)

    assert bus.types() == ["RestockReturn"] and deps.ledgers.writes == 0
