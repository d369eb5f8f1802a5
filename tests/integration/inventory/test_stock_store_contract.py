"""One behaviour, two adapters: the stock writes (services/inventory/ports.py ``StockStore``) as the
Mongo adapter on the real store server and the in-memory fake the handler tests use (issue 6).
Every write is idempotent by its order or receipt id: that is what lets a handler repeat them; an
order change's writes (``adjust`` and ``limit``, issue 8) once per change id: a repeat moves nothing
and says what the first one did."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.inventory.adapters import MongoStockStore
from services.inventory.adapters.mongo_stock import from_doc
from services.inventory.domain import BelowReserved, HoldChange
from tests.support.fakes_inventory import FakeStockStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def stock(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeStockStore()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield MongoStockStore(client[f"c{uuid.uuid4().hex[:8]}_inventory"]["stock"])
    await client.close()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def counters(stock: Any, sku: str) -> tuple[int, int, int]:
    doc = await stock.get(sku)
    assert doc["reserved"] == sum(doc["holds"].values())  # never drifts from the holds
    assert doc["available"] == doc["on_hand"] - doc["reserved"]
    return doc["on_hand"], doc["reserved"], doc["available"]


async def test_a_hold_takes_what_is_available_and_a_repeat_returns_the_first_decision(stock):
    sku, first, second = uid("SKU"), uid("SO"), uid("SO")
    await stock.count(sku, "main", 5)

    assert await stock.hold(sku, first, 3) == 3
    assert await stock.hold(sku, second, 4) == 2  # R4.1: never more than is available
    assert await stock.hold(sku, second, 4) == 2  # a redelivery: the first decision

    assert await counters(stock, sku) == (5, 5, 0)


async def test_a_hold_on_a_sku_never_counted_holds_nothing_and_remembers_it(stock):
    sku, order = uid("SKU"), uid("SO")

    assert await stock.hold(sku, order, 2) == 0
    await stock.count(sku, "main", 9)

    assert await stock.hold(sku, order, 2) == 0
    assert await counters(stock, sku) == (9, 0, 9)


async def test_a_release_gives_back_exactly_what_was_held_once(stock):
    sku, order = uid("SKU"), uid("SO")
    await stock.count(sku, "main", 4)
    await stock.hold(sku, order, 3)

    assert await stock.release(sku, order) == 3
    assert await stock.release(sku, order) == 0
    assert await stock.release(uid("SKU"), order) == 0  # no stock document at all

    assert await counters(stock, sku) == (4, 0, 4)


async def test_a_commit_ships_the_held_units_from_the_fullest_warehouse_once(stock):
    sku, order = uid("SKU"), uid("SO")
    await stock.count(sku, "main", 2)
    await stock.count(sku, "east.1", 5)
    await stock.hold(sku, order, 6)

    assert await stock.commit(sku, order) == 6
    assert await stock.commit(sku, order) == 6  # a redelivery: what left the first time
    assert await stock.commit(sku, uid("SO")) == 0  # nothing held for that order

    doc = await stock.get(sku)
    assert await counters(stock, sku) == (1, 0, 1)
    assert sorted(doc["warehouses"].values()) == [0, 1] and doc["holds"] == {}


async def test_a_receipt_is_counted_once_and_what_it_holds_goes_to_the_order(stock):
    sku, order, receipt = uid("SKU"), uid("SO"), uid("PO")
    await stock.count(sku, "main", 1)
    await stock.hold(sku, order, 3)

    assert await stock.receive(sku, receipt, 4, "main", order, 2) == (True, 3)
    assert await stock.receive(sku, receipt, 4, "main", order, 2) == (False, 3)
    assert await stock.receive(sku, uid("RT"), 2, "returns") == (True, 0)

    assert await counters(stock, sku) == (7, 3, 4)


async def test_a_count_below_what_is_held_is_refused(stock):
    sku = uid("SKU")
    await stock.count(sku, "main", 5)
    await stock.hold(sku, uid("SO"), 4)

    with pytest.raises(BelowReserved):
        await stock.count(sku, "main", 3)

    assert (await stock.count(sku, "main", 4))["available"] == 0


# --- an order change (issue 8) ----------------------------------------------------------------


async def test_a_decrease_gives_back_exactly_the_difference_once(stock):
    sku, order = uid("SKU"), uid("SO")
    await stock.count(sku, "main", 10)
    await stock.hold(sku, order, 5)

    assert await stock.adjust(sku, order, f"{order}:c1", 2) == HoldChange(5, 2, 2)
    assert await stock.adjust(sku, order, f"{order}:c1", 2) == HoldChange(5, 2, 2)  # a repeat

    assert await counters(stock, sku) == (10, 2, 8)


async def test_an_increase_holds_what_is_available_never_another_orders_hold(stock):
    sku, order, other = uid("SKU"), uid("SO"), uid("SO")
    await stock.count(sku, "main", 4)
    await stock.hold(sku, order, 2)
    await stock.hold(sku, other, 1)

    assert await stock.adjust(sku, order, f"{order}:c1", 5) == HoldChange(2, 3, 3)
    await stock.count(sku, "main", 9)  # more arrives: a repeat of the change still holds nothing more
    assert await stock.adjust(sku, order, f"{order}:c1", 5) == HoldChange(2, 3, 3)

    assert await counters(stock, sku) == (9, 4, 5)
    assert from_doc(await stock.get(sku)).holds == {order: 3, other: 1}


async def test_a_second_change_starts_from_the_first_and_is_recorded_in_its_place(stock):
    sku, order = uid("SKU"), uid("SO")
    await stock.count(sku, "main", 6)
    await stock.hold(sku, order, 5)
    await stock.adjust(sku, order, f"{order}:c1", 0)

    assert await stock.adjust(sku, order, f"{order}:c2", 4) == HoldChange(0, 4, 4)
    assert from_doc(await stock.get(sku)).adjustments == {order: {"change": f"{order}:c2", "before": 0,
                                                                  "after": 4}}  # fmt: skip
    assert await counters(stock, sku) == (6, 4, 2)


async def test_a_sku_never_counted_nor_held_is_adjusted_without_a_trace_or_remembers_nothing_held(stock):
    sku, order = uid("SKU"), uid("SO")

    assert await stock.adjust(sku, order, f"{order}:c1", 0) == HoldChange(0, 0, 0)
    assert await stock.get(sku) is None
    assert await stock.adjust(sku, order, f"{order}:c1", 2) == HoldChange(0, 0, 0)
    await stock.count(sku, "main", 5)
    assert await stock.adjust(sku, order, f"{order}:c1", 2) == HoldChange(0, 0, 0)  # decided once

    assert await counters(stock, sku) == (5, 0, 5)


async def test_a_repeat_reports_the_change_and_the_hold_as_it_is_now(stock):
    sku, order = uid("SKU"), uid("SO")
    await stock.count(sku, "main", 2)
    await stock.hold(sku, order, 6)
    await stock.adjust(sku, order, f"{order}:c1", 3)  # holds 2 of 3
    await stock.receive(sku, uid("PO"), 4, "main", order, 4)  # a receipt that raced the change

    assert await stock.adjust(sku, order, f"{order}:c1", 3) == HoldChange(2, 2, 6)
    assert await stock.limit(sku, order, 3) == 3
    assert await stock.limit(sku, order, 3) == 3
    assert await stock.limit(sku, uid("SO"), 0) == 0

    assert await counters(stock, sku) == (6, 3, 3)
