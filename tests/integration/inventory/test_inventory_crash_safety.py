"""A reservation interrupted between two SKUs resumes without holding anything twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from services.inventory.adapters import MongoReservationStore, MongoStockStore
from services.inventory.domain import Reservation
from services.inventory.settings import Settings
from shared.contracts import LineQty, ReserveStock
from shared.outbox import Outbox
from tests.integration.inventory.builders import a_product, stock_of, uid
from tests.support.fakes import FakeBus

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(stack, mongo_url) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"{stack.prefix}_inventory"]
    await client.close()


async def test_a_reserve_redelivered_after_a_crash_between_skus_holds_each_sku_once(http, probe, db):
    first, second = await a_product(http, on_hand=10), await a_product(http, on_hand=10)
    order_id = uid("SO")
    # What a handler killed after its first SKU leaves behind: the reservation begun, one hold taken.
    begun = Reservation.start(order_id, [(first, 2), (second, 3)])
    outbox = Outbox(FakeBus(), Settings())  # type: ignore[arg-type]  # the insert stages nothing
    await MongoReservationStore(db["reservations"], outbox).insert(begun)
    await MongoStockStore(db["stock"]).hold(first, order_id, 2)

    await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=first, quantity=2),
                                                               LineQty(sku=second, quantity=3)]))  # fmt: skip
    reserved = (await probe.wait_for("StockReserved", order_id))[0].payload

    assert reserved["lines"] == [{"sku": first, "quantity": 2}, {"sku": second, "quantity": 3}]
    assert await stock_of(http, first) == (10, 2, 8)
    assert await stock_of(http, second) == (10, 3, 7)


async def test_the_stored_counters_always_match_the_holds_and_warehouses(http, probe, db):
    sku = await a_product(http, on_hand=7)
    orders = [uid("SO") for _ in range(5)]
    for order_id in orders:
        await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=sku, quantity=2)]))
    await probe.wait_for("StockShort", count=2, where=lambda e: e.correlation_id in orders)
    await probe.wait_for("StockReserved", count=3, where=lambda e: e.correlation_id in orders)

    doc = await db["stock"].find_one({"_id": sku})

    assert doc["reserved"] == sum(doc["holds"].values()) == 7
    assert doc["on_hand"] == sum(doc["warehouses"].values())
    assert doc["available"] == doc["on_hand"] - doc["reserved"] == 0
