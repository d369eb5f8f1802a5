"""One behaviour, two adapters: the stock writes (services/inventory/ports.py ``StockStore``) as the
Mongo adapter on the real store server and the in-memory fake the handler tests use (issue 6).
Every write is idempotent by its order or receipt id: that is what lets a handler repeat them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.inventory.adapters import MongoStockStore
from services.inventory.domain import BelowReserved
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
