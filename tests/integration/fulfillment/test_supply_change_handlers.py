"""An order change seen from supply (issue 8, R7.2, R4.2): CheckSupplyChange and ChangeSupply
against the Mongo adapters on the real store server and against the in-memory fakes, the same
behaviour on both: what each command writes and answers, a duplicate, a crash half-way, and that
RaiseSupply and CancelSupply still do what they did."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.fulfillment.adapters import MongoSupplyOrderStore, MongoSupplyRequestStore
from services.fulfillment.changes import change_supply, check_supply_change
from services.fulfillment.completion import complete_supply, start_production
from services.fulfillment.deps import Fulfillment
from services.fulfillment.handlers import cancel_supply, raise_supply
from services.fulfillment.settings import Settings
from shared.contracts import (
    CancelSupply,
    ChangeSupply,
    CheckSupplyChange,
    Message,
    RaiseSupply,
    Shortage,
    SupplyChanged,
    SupplyTarget,
)
from shared.envelope import Envelope, reply_id
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_fulfillment import FakeSupplyOrderStore, FakeSupplyRequestStore
from tests.unit.fulfillment.builders import sent, uid

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def world(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Fulfillment, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield Fulfillment(Settings(), FakeSupplyOrderStore(bus), FakeSupplyRequestStore(bus)), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_fulfillment"]
    outbox = Outbox(bus, Settings())  # type: ignore[arg-type]
    orders = MongoSupplyOrderStore(db["supply_orders"], outbox)
    await orders.create_indexes()
    yield Fulfillment(Settings(), orders, MongoSupplyRequestStore(db["supply_requests"], outbox)), bus
    await client.close()


Handler = Any


async def deliver(
    ful: Fulfillment, handler: Handler, message: Message, env: Envelope | None = None
) -> Envelope:
    """``message`` handled as delivered (``env``: the same delivery again)."""
    env = env or sent(message)
    await handler(message, env, ful)
    return env


async def raised(ful: Fulfillment, order_id: str, *lines: tuple[str, int, str]) -> dict[str, str]:
    """RaiseSupply for (sku, quantity, sourcing) lines; SKU -> its supply order id."""
    shortages = [Shortage(sku=sku, quantity=q, sourcing=src, lead_time_days=3) for sku, q, src in lines]  # type: ignore[arg-type]
    await deliver(ful, raise_supply, RaiseSupply(order_id=order_id, shortages=shortages))
    return {o.sku: o.supply_order_id for o in await ful.supply_orders.of_order(order_id)}


def change(order_id: str, n: int, *targets: tuple[str, int, str]) -> ChangeSupply:
    wanted = [SupplyTarget(sku=sku, quantity=q, sourcing=src, lead_time_days=4) for sku, q, src in targets]
    return ChangeSupply(order_id=order_id, change_id=f"{order_id}:c{n}", targets=wanted)


async def state(ful: Fulfillment, order_id: str) -> list[tuple[str, str, int, str, int]]:
    """Every supply order of the order (id, SKU, quantity, status, version) and the request's version."""
    orders = [(o.supply_order_id, o.sku, o.quantity, o.status.value, o.version)
              for o in await ful.supply_orders.of_order(order_id)]  # fmt: skip
    request = await ful.requests.load(order_id)
    return [*orders, ("request", "", 0, "", request.doc["version"] if request else 0)]


def replies(bus: FakeBus, type_name: str) -> list[Envelope]:
    return [e for e in bus.published if e.type == type_name]


def die_on(store: Any, method: str, after: int = 0) -> None:
    """The process dies at ``store.method``'s call number ``after + 1`` (the earlier ones go through)."""
    real, calls = getattr(store, method), [0]

    async def dying(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > after:
            delattr(store, method)
            raise ConnectionError("process killed")
        return await real(*args, **kwargs)

    setattr(store, method, dying)


# --- CheckSupplyChange (R7.2) -------------------------------------------------------------------


async def test_started_production_refuses_the_check_and_the_rest_may_change(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("LAMP", 4, "make"), ("BASE", 1, "make"), ("SHADE", 2, "buy"),
                       ("CORD", 1, "buy"))  # fmt: skip
    await start_production(ids["LAMP"], "wh.qian", ful)
    await complete_supply(ids["CORD"], ful)
    before = await state(ful, order_id)
    command = CheckSupplyChange(order_id=order_id, change_id=f"{order_id}:c1",
                                skus=["LAMP", "BASE", "SHADE", "CORD", "BULB"])  # fmt: skip

    env = await deliver(ful, check_supply_change, command)

    [reply] = replies(bus, "SupplyChangeChecked")
    assert reply.message_id == reply_id(env, reply.message())
    assert reply.payload["change_id"] == f"{order_id}:c1"
    assert list(reply.payload["refused"]) == ["LAMP"]
    assert reply.payload["refused"]["LAMP"].startswith("production of LAMP started at ")
    assert reply.payload["refused"]["LAMP"].endswith("; it cannot change (R7.2)")
    assert await state(ful, order_id) == before  # read-only


async def test_a_check_of_an_order_without_supply_refuses_nothing_and_a_redelivery_has_the_same_id(world):
    ful, bus = world
    command = CheckSupplyChange(order_id=uid("SO"), change_id="x:c1", skus=["LAMP"])

    env = await deliver(ful, check_supply_change, command)
    await deliver(ful, check_supply_change, command, env)

    first, again = replies(bus, "SupplyChangeChecked")
    assert first.payload["refused"] == {} and (again.message_id, again.payload) == (
        first.message_id,
        first.payload,
    )


# --- ChangeSupply (R4.2, R7.2) ------------------------------------------------------------------


async def test_a_purchase_order_is_resized_and_its_completion_reports_the_new_quantity(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"))

    env = await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 2, "buy")))

    [reply] = replies(bus, "SupplyChanged")
    assert reply.message_id == reply_id(env, reply.message())
    assert [(s["supply_order_id"], s["quantity"]) for s in reply.payload["supply_orders"]] == [
        (ids["SHADE"], 2)
    ]
    assert (reply.payload["cancelled"], reply.payload["kept"]) == ([], {})
    await complete_supply(ids["SHADE"], ful)
    assert replies(bus, "SupplyCompleted")[0].payload["quantity"] == 2


async def test_a_target_of_zero_cancels_the_open_supply_order(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"), ("LAMP", 1, "make"))

    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 0, "buy")))

    [reply] = replies(bus, "SupplyChanged")
    assert (reply.payload["supply_orders"], reply.payload["cancelled"]) == ([], [ids["SHADE"]])
    assert [(o.sku, o.status.value) for o in await ful.supply_orders.of_order(order_id)] == [
        ("LAMP", "open"), ("SHADE", "cancelled")]  # fmt: skip


async def test_a_new_sku_raises_production_for_make_and_purchase_for_buy_after_the_lead_time(world):
    ful, bus = world
    order_id = uid("SO")
    await raised(ful, order_id, ("SHADE", 5, "buy"))

    await deliver(ful, change_supply, change(order_id, 1, ("LAMP", 3, "make"), ("BULB", 6, "buy")))

    [reply] = replies(bus, "SupplyChanged")
    made, bought = reply.payload["supply_orders"]
    assert [(s["kind"], s["sku"], s["quantity"]) for s in (made, bought)] == [
        ("production", "LAMP", 3), ("purchase", "BULB", 6)]  # fmt: skip
    stored = {o.sku: o for o in await ful.supply_orders.of_order(order_id)}
    assert stored["LAMP"].expected_at - stored["LAMP"].created_at == timedelta(days=4)
    assert datetime.fromisoformat(made["expected_at"]) == stored["LAMP"].expected_at
    request = (await ful.requests.load(order_id)).aggregate
    assert {made["supply_order_id"], bought["supply_order_id"]} <= set(request.supply_order_ids)


async def test_a_target_for_a_sku_whose_supply_completed_raises_a_new_supply_order(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"))
    await complete_supply(ids["SHADE"], ful)

    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 3, "buy")))

    [reply] = replies(bus, "SupplyChanged")
    [new] = reply.payload["supply_orders"]
    assert new["supply_order_id"] != ids["SHADE"] and (new["sku"], new["quantity"]) == ("SHADE", 3)
    assert sorted((o.supply_order_id == ids["SHADE"], o.status.value, o.quantity)
                  for o in await ful.supply_orders.of_order(order_id)) == [
        (False, "open", 3), (True, "completed", 5)]  # the completed one is untouched  # fmt: skip


async def test_a_target_for_a_sku_whose_supply_was_cancelled_by_an_earlier_change_raises_a_new_one(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"))
    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 0, "buy")))

    await deliver(ful, change_supply, change(order_id, 2, ("SHADE", 4, "buy")))

    first, second = replies(bus, "SupplyChanged")
    assert first.payload["cancelled"] == [ids["SHADE"]]
    [new] = second.payload["supply_orders"]
    assert (new["sku"], new["quantity"]) == ("SHADE", 4) and new["supply_order_id"] != ids["SHADE"]
    assert second.payload["cancelled"] == []


async def test_started_production_is_kept_unchanged_and_named_with_the_reason(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("LAMP", 4, "make"), ("SHADE", 5, "buy"))
    await start_production(ids["LAMP"], "wh.qian", ful)

    await deliver(ful, change_supply, change(order_id, 1, ("LAMP", 1, "make"), ("SHADE", 2, "buy")))

    [reply] = replies(bus, "SupplyChanged")
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("LAMP", 4), ("SHADE", 2)]
    assert list(reply.payload["kept"]) == ["LAMP"]
    assert "production of LAMP started at" in reply.payload["kept"]["LAMP"]
    lamp = (await ful.supply_orders.load(ids["LAMP"])).aggregate
    assert (lamp.quantity, lamp.status.value, lamp.changed_by) == (4, "open", [])


async def test_a_production_order_not_started_is_resized_like_a_purchase(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("LAMP", 4, "make"))

    await deliver(ful, change_supply, change(order_id, 1, ("LAMP", 6, "make")))

    [reply] = replies(bus, "SupplyChanged")
    assert [(s["supply_order_id"], s["quantity"]) for s in reply.payload["supply_orders"]] == [
        (ids["LAMP"], 6)
    ]
    assert reply.payload["kept"] == {}


async def test_a_change_for_an_order_that_raised_no_supply_yet_raises_and_answers(world):
    ful, bus = world
    order_id = uid("SO")

    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 2, "buy"), ("LAMP", 0, "make")))

    [reply] = replies(bus, "SupplyChanged")
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("SHADE", 2)]
    request = (await ful.requests.load(order_id)).aggregate
    assert list(request.changes) == [f"{order_id}:c1"] and not request.is_cancelled


# --- duplicates and crashes (no transactions: one document at a time) ----------------------------


async def test_a_duplicate_change_changes_nothing_and_is_answered_again_under_the_same_id(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"), ("CORD", 1, "buy"))
    command = change(order_id, 1, ("SHADE", 2, "buy"), ("CORD", 0, "buy"), ("LAMP", 3, "make"))
    env = await deliver(ful, change_supply, command)
    after = await state(ful, order_id)

    await deliver(ful, change_supply, command, env)  # the same delivery again
    await deliver(ful, change_supply, command)  # a copy sent again, under a new message id

    first, again, copy = replies(bus, "SupplyChanged")
    assert await state(ful, order_id) == after
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert copy.payload == first.payload
    assert first.payload["cancelled"] == [ids["CORD"]]


async def test_a_duplicate_answers_what_the_change_did_even_after_the_supply_moved_on(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"))
    command = change(order_id, 1, ("SHADE", 2, "buy"))
    env = await deliver(ful, change_supply, command)
    await complete_supply(ids["SHADE"], ful)

    await deliver(ful, change_supply, command, env)

    first, again = replies(bus, "SupplyChanged")
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert len(await ful.supply_orders.of_order(order_id)) == 1  # nothing raised for the completed SKU


async def test_a_change_that_died_between_two_skus_is_finished_by_the_redelivery(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"), ("CORD", 1, "buy"))
    command = change(order_id, 1, ("SHADE", 2, "buy"), ("CORD", 0, "buy"), ("LAMP", 3, "make"))
    env = sent(command)
    die_on(ful.supply_orders, "save", after=1)  # SHADE resized, then the process dies at CORD
    with pytest.raises(ConnectionError):
        await deliver(ful, change_supply, command, env)
    assert replies(bus, "SupplyChanged") == []

    await deliver(ful, change_supply, command, env)  # the redelivery

    [reply] = replies(bus, "SupplyChanged")
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("SHADE", 2), ("LAMP", 3)]
    assert reply.payload["cancelled"] == [ids["CORD"]]
    shade = (await ful.supply_orders.load(ids["SHADE"])).aggregate
    assert (shade.quantity, shade.changed_by) == (2, [f"{order_id}:c1"])  # resized once, not twice
    assert len(await ful.supply_orders.of_order(order_id)) == 3  # one LAMP raised, not two


async def test_a_change_that_died_before_its_answer_is_answered_by_the_redelivery(world):
    ful, bus = world
    order_id = uid("SO")
    await raised(ful, order_id, ("SHADE", 5, "buy"))
    command = change(order_id, 1, ("SHADE", 2, "buy"), ("LAMP", 3, "make"))
    env = sent(command)
    die_on(ful.requests, "save")  # every supply order done; the answer's write dies
    with pytest.raises(ConnectionError):
        await deliver(ful, change_supply, command, env)
    steps = await state(ful, order_id)

    await deliver(ful, change_supply, command, env)

    [reply] = replies(bus, "SupplyChanged")
    assert reply.message_id == reply_id(env, reply.message())
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("SHADE", 2), ("LAMP", 3)]
    assert (await state(ful, order_id))[:-1] == steps[:-1]  # no supply order written again


async def test_production_started_between_a_crash_and_the_redelivery_keeps_what_was_done(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("LAMP", 4, "make"))
    command = change(order_id, 1, ("LAMP", 2, "make"))
    env = sent(command)
    die_on(ful.requests, "save")
    with pytest.raises(ConnectionError):
        await deliver(ful, change_supply, command, env)  # LAMP resized to 2, then the crash
    await start_production(ids["LAMP"], "wh.qian", ful)

    await deliver(ful, change_supply, command, env)

    [reply] = replies(bus, "SupplyChanged")
    assert [(s["sku"], s["quantity"]) for s in reply.payload["supply_orders"]] == [("LAMP", 2)]
    assert reply.payload["kept"] == {}  # it was changed before production started


# --- RaiseSupply and CancelSupply alongside changes ---------------------------------------------


async def test_a_redelivered_raise_after_a_change_raised_a_new_supply_order_raises_nothing_new(world):
    ful, bus = world
    order_id = uid("SO")
    raise_ = RaiseSupply(order_id=order_id, shortages=[Shortage(sku="SHADE", quantity=5, sourcing="buy",
                                                                lead_time_days=3)])  # fmt: skip
    env = await deliver(ful, raise_supply, raise_)
    [first] = await ful.supply_orders.of_order(order_id)
    await complete_supply(first.supply_order_id, ful)
    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 3, "buy")))

    await deliver(ful, raise_supply, raise_, env)

    assert len(await ful.supply_orders.of_order(order_id)) == 2  # the first and the change's
    first_reply, again = replies(bus, "SupplyRaised")
    assert again.message_id == first_reply.message_id
    assert [s["supply_order_id"] for s in again.payload["supply_orders"]] == [first.supply_order_id]


async def test_the_compensation_cancels_every_open_supply_order_the_changes_left(world):
    ful, bus = world
    order_id = uid("SO")
    ids = await raised(ful, order_id, ("SHADE", 5, "buy"))
    await complete_supply(ids["SHADE"], ful)
    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 3, "buy"), ("LAMP", 2, "make")))
    opened = [s["supply_order_id"] for s in replies(bus, "SupplyChanged")[0].payload["supply_orders"]]

    await deliver(ful, cancel_supply, CancelSupply(order_id=order_id))

    [cancelled] = replies(bus, "SupplyCancelled")
    assert sorted(cancelled.payload["supply_order_ids"]) == sorted(opened)
    assert sorted(o.status.value for o in await ful.supply_orders.of_order(order_id)) == [
        "cancelled", "cancelled", "completed"]  # fmt: skip


async def test_a_change_after_the_compensation_raises_nothing_and_replies_nothing(world):
    ful, bus = world
    order_id = uid("SO")
    await raised(ful, order_id, ("SHADE", 5, "buy"))
    await deliver(ful, cancel_supply, CancelSupply(order_id=order_id))
    before = await state(ful, order_id)

    await deliver(ful, change_supply, change(order_id, 1, ("SHADE", 2, "buy"), ("LAMP", 3, "make")))

    assert replies(bus, "SupplyChanged") == []
    assert await state(ful, order_id) == before


async def test_the_answer_of_a_change_reads_back_as_it_was_sent(world):
    ful, bus = world
    order_id = uid("SO")
    await raised(ful, order_id, ("LAMP.RED", 4, "make"))
    [lamp] = await ful.supply_orders.of_order(order_id)
    await start_production(lamp.supply_order_id, "wh.qian", ful)
    await deliver(ful, change_supply, change(order_id, 1, ("LAMP.RED", 1, "make")))

    stored = (await ful.requests.load(order_id)).aggregate.changes[f"{order_id}:c1"]

    assert stored == replies(bus, "SupplyChanged")[0].message()
    assert isinstance(stored, SupplyChanged) and list(stored.kept) == ["LAMP.RED"]
