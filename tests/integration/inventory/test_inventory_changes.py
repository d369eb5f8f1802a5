"""An order change over the real bus and store (issue 8, R7.2; R4.2 "cancelling the short lines"):
the inventory consumes AdjustStock and answers StockAdjusted, once per change id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from services.inventory.adapters import MongoStockStore
from shared.contracts import AdjustStock, CommitStock, LineQty, ReserveStock
from tests.integration.inventory.builders import a_product, stock_of, uid
from tests.support.barriers import parked_logged, parked_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(stack, mongo_url) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"{stack.prefix}_inventory"]
    await client.close()


def lines(*units: tuple[str, int]) -> list[LineQty]:
    return [LineQty(sku=sku, quantity=q) for sku, q in units]


async def test_a_change_moves_the_reservation_and_a_redelivery_is_answered_again(http, probe):
    cut, raised = await a_product(http, on_hand=10), await a_product(http, on_hand=3, sourcing="make", lead=9)
    order_id = uid("SO")
    await probe.publish(ReserveStock(order_id=order_id, lines=lines((cut, 5), (raised, 2))))
    await probe.wait_for("StockReserved", order_id)

    change = AdjustStock(order_id=order_id, change_id=f"{order_id}:c1", lines=lines((cut, 2), (raised, 5)))
    first = await probe.publish(change)
    await probe.wait_for("StockAdjusted", order_id)
    await probe.publish(change, envelope=first)  # the same delivery again
    replies = await probe.wait_for("StockAdjusted", order_id, count=2)

    assert replies[0].payload == {
        "order_id": order_id, "change_id": f"{order_id}:c1",
        "released": [{"sku": cut, "quantity": 3}], "reserved": [{"sku": raised, "quantity": 1}],
        "missing": [{"sku": raised, "quantity": 2, "sourcing": "make", "lead_time_days": 9}],
    }  # fmt: skip
    assert (replies[1].message_id, replies[1].payload) == (replies[0].message_id, replies[0].payload)
    assert await stock_of(http, cut) == (10, 2, 8)
    assert await stock_of(http, raised) == (3, 3, 0)


async def test_a_change_redelivered_after_a_crash_between_skus_moves_each_sku_once(http, probe, db):
    first, second = await a_product(http, on_hand=10), await a_product(http, on_hand=10)
    order_id = uid("SO")
    await probe.publish(ReserveStock(order_id=order_id, lines=lines((first, 5), (second, 1))))
    await probe.wait_for("StockReserved", order_id)
    # What a handler killed after its first SKU leaves behind: that SKU's step made, nothing recorded.
    await MongoStockStore(db["stock"]).adjust(first, order_id, f"{order_id}:c1", 2)

    change = AdjustStock(order_id=order_id, change_id=f"{order_id}:c1", lines=lines((first, 2), (second, 4)))
    await probe.publish(change)
    adjusted = (await probe.wait_for("StockAdjusted", order_id))[0].payload

    assert adjusted["released"] == [{"sku": first, "quantity": 3}]
    assert adjusted["reserved"] == [{"sku": second, "quantity": 3}]
    assert await stock_of(http, first) == (10, 2, 8)
    assert await stock_of(http, second) == (10, 4, 6)


async def test_a_change_of_a_shipped_order_is_parked_at_once_with_the_reason(http, probe, stack):
    await probe.parked("inventory")
    sku = await a_product(http, on_hand=4)
    order_id = uid("SO")
    await probe.publish(ReserveStock(order_id=order_id, lines=lines((sku, 3))))
    await probe.wait_for("StockReserved", order_id)
    await probe.publish(CommitStock(order_id=order_id))
    await probe.wait_for("StockCommitted", order_id)

    late = AdjustStock(order_id=order_id, change_id=f"{order_id}:c1", lines=lines((sku, 1)))
    sent = await probe.publish(late)
    await parked_logged(stack, "inventory", sent)
    parked = await parked_until(probe, "inventory", 1)

    assert "a change after shipping is a return" in str(parked[0][1]["x-error"])
    assert parked[0][1]["x-attempts"] == 1
    assert probe.matching("StockAdjusted", order_id) == []
    assert await stock_of(http, sku) == (1, 0, 1)
