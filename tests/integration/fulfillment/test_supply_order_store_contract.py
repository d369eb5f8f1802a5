"""One behaviour, two adapters: fulfillment's supply-order store (services/fulfillment/ports.py)
as the Mongo adapter on the real store server and as the in-memory fake the handler tests use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.fulfillment.adapters import MongoSupplyOrderStore
from services.fulfillment.adapters.mongo_supply_orders import new_doc, to_fields
from services.fulfillment.settings import Settings
from shared.contracts import SupplyCompleted
from shared.envelope import new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_fulfillment import FakeSupplyOrderStore
from tests.support.paging import instants, walk
from tests.unit.fulfillment.builders import AT, a_supply_order, uid

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def store(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeSupplyOrderStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_fulfillment"]["supply_orders"]
    orders = MongoSupplyOrderStore(collection, Outbox(bus, Settings()))  # type: ignore[arg-type]
    await orders.create_indexes()
    yield orders, bus
    await client.close()


async def test_a_supply_order_reads_back_as_it_was_stored_with_the_orders_trace(store):
    orders, _ = store
    order = a_supply_order()
    trace = {"traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"}

    added = await orders.add(order, trace)
    loaded = await orders.load(order.supply_order_id)

    assert added.supply_order_id == order.supply_order_id
    assert loaded is not None and to_fields(loaded.aggregate) == to_fields(order)
    assert loaded.doc["trace"] == trace
    assert await orders.load(uid("PO")) is None


async def test_adding_a_second_supply_order_for_one_order_and_sku_gives_back_the_first(store):
    orders, _ = store
    first = a_supply_order()
    await orders.add(first, {})

    again = await orders.add(a_supply_order(first.order_id, first.sku), {})

    assert again.supply_order_id == first.supply_order_id
    assert [o.supply_order_id for o in await orders.of_order(first.order_id)] == [first.supply_order_id]


async def test_each_order_change_may_raise_one_more_supply_order_for_one_order_and_sku(store):
    # Issue 8: the key is (order, SKU, the change that raised it; "" for RaiseSupply).
    orders, _ = store
    first = a_supply_order()
    first.complete(AT)
    await orders.add(first, {})
    by_change = replace(a_supply_order(first.order_id, first.sku), raised_by_change=f"{first.order_id}:c1")

    added = await orders.add(by_change, {})
    again = await orders.add(replace(by_change, supply_order_id=uid("PO")), {})  # the change redelivered
    late_raise = await orders.add(a_supply_order(first.order_id, first.sku), {})  # a RaiseSupply redelivered

    assert added.supply_order_id == again.supply_order_id == by_change.supply_order_id
    assert late_raise.supply_order_id == first.supply_order_id
    listed = await orders.of_order(first.order_id)
    both = [first.supply_order_id, by_change.supply_order_id]
    assert sorted(o.supply_order_id for o in listed) == sorted(both)


async def test_started_production_and_the_changes_that_touched_it_read_back(store):
    orders, _ = store
    order = replace(a_supply_order(), kind="production", raised_by_change="SO-1:c1")
    await orders.add(order, {})
    loaded = await orders.load(order.supply_order_id)

    loaded.aggregate.start(AT, "wh.qian")
    loaded.aggregate.change_to(5, "SO-1:c2", AT)  # started: kept, nothing recorded
    await orders.save(loaded, [])
    reread = (await orders.load(order.supply_order_id)).aggregate

    assert (reread.started_at, reread.started_by, reread.raised_by_change) == (AT, "wh.qian", "SO-1:c1")
    assert to_fields(reread) == to_fields(loaded.aggregate)


async def test_an_orders_supply_orders_are_listed_oldest_first(store):
    orders, _ = store
    order_id = uid("SO")
    later = a_supply_order(order_id, "SKU-A", at=AT + timedelta(minutes=1))
    earlier = a_supply_order(order_id, "SKU-B")
    for order in (later, earlier, a_supply_order()):
        await orders.add(order, {})

    listed = await orders.of_order(order_id)

    assert [o.supply_order_id for o in listed] == [earlier.supply_order_id, later.supply_order_id]


async def test_a_save_from_a_stale_read_loses_its_race(store):
    orders, _ = store
    order = a_supply_order()
    await orders.add(order, {})
    first, second = await orders.load(order.supply_order_id), await orders.load(order.supply_order_id)

    first.aggregate.complete(AT)
    await orders.save(first, [])

    with pytest.raises(ConcurrencyError):
        await orders.save(second, [])
    assert (await orders.load(order.supply_order_id)).aggregate.status.value == "completed"


async def test_a_flush_publishes_what_its_write_staged_and_clears_it_by_id(store):
    orders, bus = store
    order = a_supply_order()
    await orders.add(order, {})
    loaded, stale = await orders.load(order.supply_order_id), await orders.load(order.supply_order_id)
    completed = SupplyCompleted(order_id=order.order_id, supply_order_id=order.supply_order_id,
                                sku=order.sku, quantity=order.quantity)  # fmt: skip
    mine = new_envelope(completed, producer="fulfillment")

    loaded.aggregate.complete(AT)
    await orders.flush(await orders.save(loaded, [mine]))

    assert [e.message_id for e in bus.published] == [mine.message_id]
    doc = (await orders.load(order.supply_order_id)).doc
    assert (doc["outbox"], doc["outbox_at"], doc["version"]) == ({}, None, 2)  # the clear bumps nothing
    with pytest.raises(ConcurrencyError):
        await orders.save(stale, [])


async def test_the_fingerprint_tells_a_changed_supply_order_from_an_unchanged_one(store):
    orders, _ = store
    order = a_supply_order()
    before = orders.fingerprint(order)

    order.complete(AT)
    assert orders.fingerprint(order) != before
    during = orders.fingerprint(order)
    order.complete(AT)  # already completed: nothing changes
    assert orders.fingerprint(order) == during


async def test_open_supply_orders_page_oldest_first_and_all_of_them_newest_first(store):
    orders, _ = store
    old, new, done = (a_supply_order(at=AT + timedelta(minutes=m)) for m in (0, 1, 2))
    done.complete(AT)
    for order in (new, done, old):
        await orders.add(order, {})

    open_ones = (await orders.page(status="open", limit=10)).items
    newest = (await orders.page(status=None, limit=2)).items

    assert [o.supply_order_id for o in open_ones] == [old.supply_order_id, new.supply_order_id]
    assert [o.supply_order_id for o in newest] == [done.supply_order_id, new.supply_order_id]


# --- pages (issue 7: every list pages with a cursor) ----------------------------------------------

# name -> (the page's filters, True meaning the order's id; its direction)
LISTS: dict[str, tuple[dict[str, Any], int]] = {
    "newest": ({}, -1), "open": ({"status": "open"}, 1), "of an order": ({"order_id": True}, 1),
}


async def some_supply_orders(orders: Any, order_id: str) -> list[Any]:
    """Eight supply orders of one order, open, created at the instants of tests.support.paging."""
    added = [a_supply_order(order_id, f"SKU-{i}", at=at) for i, at in enumerate(instants(AT))]
    for order in reversed(added):
        await orders.add(order, {})
    return added


def in_order(added: list[Any], direction: int) -> list[str]:
    ordered = sorted(added, key=lambda o: (o.created_at, o.supply_order_id), reverse=direction < 0)
    return [o.supply_order_id for o in ordered]


def listing(orders: Any, name: str, order_id: str):  # type: ignore[no-untyped-def]
    query = {k: order_id if v is True else v for k, v in LISTS[name][0].items()}
    return lambda after: orders.page(**query, limit=3, after=after)


@pytest.mark.parametrize("name", list(LISTS))
async def test_supply_orders_page_three_at_a_time_each_once_in_the_lists_order(store, name):
    orders, _ = store
    order_id = uid("SO")
    added = await some_supply_orders(orders, order_id)

    pages = await walk(listing(orders, name, order_id))

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [o.supply_order_id for p in pages for o in p] == in_order(added, LISTS[name][1])


@pytest.mark.parametrize("name", list(LISTS))
async def test_a_supply_order_raised_between_pages_repeats_and_skips_none_of_the_older(store, name):
    orders, _ = store
    order_id = uid("SO")
    added = await some_supply_orders(orders, order_id)
    newer = a_supply_order(order_id, "SKU-NEW", at=AT + timedelta(milliseconds=2_500))

    async def raise_one(after_page: int) -> None:
        if after_page == 1:
            await orders.add(newer, {})

    pages = await walk(listing(orders, name, order_id), between=raise_one)

    listed = [o.supply_order_id for p in pages for o in p]
    if LISTS[name][1] < 0:  # newest first: the new one comes before the pages already read
        assert listed == in_order(added, -1)
    else:  # oldest first: it comes last
        assert listed == [*in_order(added, 1), newer.supply_order_id]


async def test_a_supply_order_page_holds_only_its_orders_and_status(store):
    orders, _ = store
    order_id = uid("SO")
    mine, done, other = a_supply_order(order_id, "SKU-A"), a_supply_order(order_id, "SKU-B"), a_supply_order()
    done.complete(AT)
    for order in (mine, done, other):
        await orders.add(order, {})

    page = await orders.page(order_id=order_id, status="open", limit=5)

    assert ([o.supply_order_id for o in page.items], page.next) == ([mine.supply_order_id], None)


# --- a database from before issue 8 (the Mongo adapter alone: the fake has no past) ------------


async def test_a_database_from_before_issue_8_is_brought_to_the_new_key_once(mongo_url):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_fulfillment"]["supply_orders"]
    await collection.create_index([("order_id", 1), ("sku", 1)], unique=True)  # the old key
    old = a_supply_order()
    old_doc = {k: v for k, v in new_doc(old, {}).items()
               if k not in ("started_at", "started_by", "raised_by_change", "changed_by")}  # fmt: skip
    await collection.insert_one({**old_doc, "version": 3})
    orders = MongoSupplyOrderStore(collection, Outbox(FakeBus(), Settings()))  # type: ignore[arg-type]
    try:
        await orders.create_indexes()
        await orders.create_indexes()  # at every start: the second finds nothing to do

        loaded = (await orders.load(old.supply_order_id)).aggregate
        assert (loaded.started_at, loaded.raised_by_change, loaded.changed_by) == (None, "", [])
        assert loaded.version == 3  # the migration marks the field alone
        late_raise = await orders.add(a_supply_order(old.order_id, old.sku), {})
        assert late_raise.supply_order_id == old.supply_order_id  # a RaiseSupply still finds it
        by_change = replace(a_supply_order(old.order_id, old.sku), raised_by_change=f"{old.order_id}:c1")
        assert (await orders.add(by_change, {})).supply_order_id == by_change.supply_order_id
        keys = [[k for k, _ in spec["key"]] for spec in (await collection.index_information()).values()]
        assert ["order_id", "sku"] not in keys and ["order_id", "sku", "raised_by_change"] in keys
    finally:
        await client.close()
