"""Fulfillment's handlers against the in-memory stores (tests/support/fakes_fulfillment.py): what a
command, a duplicate, a lost race, a crash half-way or a tombstone writes and sends. The stores'
behaviour is held to the Mongo adapters' by tests/integration/fulfillment/test_*_store_contract.py."""

from __future__ import annotations

import pytest

from services.fulfillment.completion import SupplyOrderNotFound, complete_supply
from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import SupplyOrderCancelled, SupplyRequest
from services.fulfillment.handlers import cancel_supply, raise_supply
from shared.contracts import RaiseSupply, Shortage, SupplyCancelled
from shared.envelope import reply_id
from tests.support.fakes_fulfillment import FakeSupplyOrderStore
from tests.unit.fulfillment.builders import a_cancel, a_raise, sent, uid


async def raised(ful: Fulfillment, order_id: str, *skus: str) -> list[str]:
    """Raise supply for the order; the ids of its supply orders."""
    command = sent(a_raise(order_id, *skus))
    await raise_supply(command.message(), command, ful)  # type: ignore[arg-type]
    return [o.supply_order_id for o in await ful.supply_orders.of_order(order_id)]


def statuses(supply_orders: FakeSupplyOrderStore, order_id: str) -> list[str]:
    return [doc["status"] for doc in supply_orders.collection.find_all(order_id=order_id)]


# --- raising (R4.2) -----------------------------------------------------------------------------


async def test_raising_supply_writes_one_supply_order_per_sku_then_one_request_and_replies_once(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    command = sent(a_raise(order_id, "LAMP", "SHADE", "LAMP"))  # the lamp is short twice

    await raise_supply(command.message(), command, ful)

    [reply] = bus.published
    assert (supply_orders.writes, requests.writes) == (2, 1)
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("LAMP", 2), ("SHADE", 1)]
    assert reply.message_id == reply_id(command, reply.message())
    request = await requests.load(order_id)
    ids = [s["supply_order_id"] for s in reply.payload["supply_orders"]]
    assert request.aggregate.supply_order_ids == ids and request.doc["outbox"] == {}


async def test_a_duplicate_raise_writes_nothing_and_is_answered_again_under_the_same_message_id(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    command = sent(a_raise(order_id, "LAMP"))
    await raise_supply(command.message(), command, ful)

    await raise_supply(command.message(), command, ful)  # the same delivery again

    first, again = bus.published
    assert (supply_orders.writes, requests.writes) == (1, 1)
    assert (again.message_id, again.payload) == (first.message_id, first.payload)


async def test_a_raise_that_died_before_writing_its_request_is_finished_by_the_redelivery(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    command = sent(a_raise(order_id, "LAMP"))
    requests.before_next_save.append(_crash)
    with pytest.raises(ConnectionError):
        await raise_supply(command.message(), command, ful)  # the supply order went in, then the crash
    [supply_order_id] = [o.supply_order_id for o in await supply_orders.of_order(order_id)]

    await raise_supply(command.message(), command, ful)  # the redelivery

    [reply] = bus.published
    assert [s["supply_order_id"] for s in reply.payload["supply_orders"]] == [supply_order_id]
    assert supply_orders.writes == 1  # the redelivery found the supply order and raised nothing new
    assert (await requests.load(order_id)).aggregate.supply_order_ids == [supply_order_id]


async def _crash() -> None:
    raise ConnectionError("process killed")


async def test_a_raise_racing_its_twin_records_once_and_both_are_answered_under_one_id(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    command = sent(a_raise(order_id, "LAMP"))

    async def twin() -> None:  # the other copy of the delivery writes the request first
        await raise_supply(command.message(), command, ful)

    requests.before_next_save.append(twin)
    await raise_supply(command.message(), command, ful)

    first, again = bus.published
    assert (supply_orders.writes, requests.writes) == (1, 1)
    assert (again.message_id, again.payload) == (first.message_id, first.payload)


# --- cancelling (R7.1) --------------------------------------------------------------------------


async def test_cancelling_cancels_the_open_supply_orders_keeps_completed_ones_and_replies_once(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    made, bought = await raised(ful, order_id, "LAMP", "SHADE")
    await complete_supply(made, ful)
    command = sent(a_cancel(order_id))

    await cancel_supply(command.message(), command, ful)

    reply = bus.published[-1]
    assert reply.message() == SupplyCancelled(order_id=order_id, supply_order_ids=[bought])
    assert reply.message_id == reply_id(command, reply.message())
    assert sorted(statuses(supply_orders, order_id)) == ["cancelled", "completed"]  # made goods are stock
    assert (await requests.load(order_id)).aggregate.cancelled_ids == [bought]


async def test_a_duplicate_cancel_writes_nothing_and_is_answered_again_under_the_same_message_id(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    await raised(ful, order_id, "LAMP")
    command = sent(a_cancel(order_id))
    await cancel_supply(command.message(), command, ful)
    writes = (supply_orders.writes, requests.writes)

    await cancel_supply(command.message(), command, ful)

    first, again = bus.published[-2:]
    assert (supply_orders.writes, requests.writes) == writes
    assert (again.type, again.message_id, again.payload) == (
        "SupplyCancelled",
        first.message_id,
        first.payload,
    )


async def test_a_cancel_losing_its_race_to_its_twin_is_decided_again_and_answered_under_one_id(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    [supply_order_id] = await raised(ful, order_id, "LAMP")
    command = sent(a_cancel(order_id))

    async def twin() -> None:  # the other copy does everything between our read and our first write
        await cancel_supply(command.message(), command, ful)

    requests.before_next_save.append(twin)
    await cancel_supply(command.message(), command, ful)

    first, again = bus.published[-2:]
    assert first.message() == SupplyCancelled(order_id=order_id, supply_order_ids=[supply_order_id])
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert supply_orders.writes == 2  # raised once, cancelled once


async def test_a_cancel_that_died_half_way_names_what_it_cancelled_when_it_is_redelivered(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    [supply_order_id] = await raised(ful, order_id, "LAMP")
    command = sent(a_cancel(order_id))

    async def crash_at_the_reply() -> None:  # the close goes in; the next write (the reply) dies
        requests.before_next_save.append(_crash)

    requests.before_next_save.append(crash_at_the_reply)
    with pytest.raises(ConnectionError):  # it closed the request and cancelled the supply order first
        await cancel_supply(command.message(), command, ful)
    assert statuses(supply_orders, order_id) == ["cancelled"]

    await cancel_supply(command.message(), command, ful)  # the redelivery

    reply = bus.published[-1]
    assert reply.message() == SupplyCancelled(order_id=order_id, supply_order_ids=[supply_order_id])
    assert (await requests.load(order_id)).aggregate.cancelled_ids == [supply_order_id]


# --- tombstones: a compensation that arrives before its command (ARCHITECTURE.md) ---------------


async def test_a_cancel_before_the_raise_leaves_a_tombstone_and_replies_that_nothing_was_cancelled(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    command = sent(a_cancel(order_id))

    await cancel_supply(command.message(), command, ful)

    [reply] = bus.published
    assert reply.message() == SupplyCancelled(order_id=order_id, supply_order_ids=[])
    assert reply.message_id == reply_id(command, reply.message())
    assert (requests.writes, supply_orders.writes) == (1, 0)
    assert (await requests.load(order_id)).aggregate.is_cancelled


async def test_a_raise_after_its_cancellation_raises_nothing_and_replies_nothing(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    cancel = sent(a_cancel(order_id))
    await cancel_supply(cancel.message(), cancel, ful)

    await raised(ful, order_id, "LAMP")

    assert bus.types() == ["SupplyCancelled"]
    assert (requests.writes, supply_orders.writes) == (1, 0)


async def test_a_cancel_racing_the_raise_leaves_no_open_supply_order_and_no_raised_reply(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    cancel = sent(a_cancel(order_id))

    async def cancel_first() -> None:  # lands after the raise inserted its supply orders
        await cancel_supply(cancel.message(), cancel, ful)

    requests.before_next_save.append(cancel_first)
    await raised(ful, order_id, "LAMP", "SHADE")

    assert bus.types() == ["SupplyCancelled"]  # the saga has its compensation's reply, nothing else
    assert statuses(supply_orders, order_id) == ["cancelled", "cancelled"]
    request = (await requests.load(order_id)).aggregate
    assert (request.status, request.supply_order_ids) == (SupplyRequest.tombstone(order_id).status, [])


# --- the factory's side (HTTP) ------------------------------------------------------------------


async def test_completing_a_supply_order_writes_once_and_reports_it_once(ful, supply_orders, bus):
    order_id = uid("SO")
    [supply_order_id] = await raised(ful, order_id, "LAMP")

    first = await complete_supply(supply_order_id, ful)
    again = await complete_supply(supply_order_id, ful)

    assert first.status.value == again.status.value == "completed"
    assert supply_orders.writes == 2  # raised, completed; the repeat wrote nothing
    assert bus.types() == ["SupplyRaised", "SupplyCompleted"]


async def test_a_completion_losing_its_race_to_a_cancellation_is_decided_again_and_refused(
    ful, supply_orders, bus
):
    order_id = uid("SO")
    [supply_order_id] = await raised(ful, order_id, "LAMP")
    cancel = sent(a_cancel(order_id))

    async def cancel_first() -> None:
        await cancel_supply(cancel.message(), cancel, ful)

    supply_orders.before_next_save.append(cancel_first)
    with pytest.raises(SupplyOrderCancelled):
        await complete_supply(supply_order_id, ful)

    assert bus.types() == ["SupplyRaised", "SupplyCancelled"]
    assert statuses(supply_orders, order_id) == ["cancelled"]


async def test_completing_an_unknown_supply_order_is_not_found_and_writes_nothing(ful, supply_orders):
    with pytest.raises(SupplyOrderNotFound):
        await complete_supply(uid("PO"), ful)

    assert supply_orders.writes == 0


async def test_a_raise_for_a_lead_time_of_a_hundred_million_days_raises_supply_and_replies(ful, bus):
    # PUT /products/X {"lead_time_days": 100000000} stored before the bound (issue 7).
    order_id = uid("SO")
    shortage = Shortage(sku=uid("SKU"), quantity=1, sourcing="buy", lead_time_days=100_000_000)
    command = sent(RaiseSupply(order_id=order_id, shortages=[shortage]))

    await raise_supply(command.message(), command, ful)  # type: ignore[arg-type]

    [reply] = bus.published
    assert reply.type == "SupplyRaised"
    assert [s["sku"] for s in reply.payload["supply_orders"]] == [shortage.sku]
