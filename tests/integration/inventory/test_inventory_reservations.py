"""Reserving, releasing, receiving and shipping stock over the real bus and store (R4.1, R4.2, R7.1)."""

from __future__ import annotations

import asyncio

import pytest

from shared.contracts import CommitStock, LineQty, ReceiveSupply, ReleaseStock, ReserveStock, RestockReturn
from tests.integration.inventory.builders import a_product, stock_of, uid
from tests.support.barriers import handled, handled_all, parked_logged, parked_until, synced

pytestmark = pytest.mark.integration


def reserve(order_id: str, *lines: tuple[str, int]) -> ReserveStock:
    return ReserveStock(order_id=order_id, lines=[LineQty(sku=sku, quantity=q) for sku, q in lines])


async def test_thirty_concurrent_orders_for_one_unit_each_against_ten_never_oversell(http, probe, stack):
    sku = await a_product(http, on_hand=10)
    orders = [uid("SO") for _ in range(30)]

    sent = await asyncio.gather(*(probe.publish(reserve(o, (sku, 1))) for o in orders))
    await handled_all(stack, "inventory", sent)
    await synced(probe)  # every reply those deliveries published is in
    reserved = probe.matching("StockReserved", where=lambda e: e.correlation_id in orders)
    short = probe.matching("StockShort", where=lambda e: e.correlation_id in orders)

    assert len({e.correlation_id for e in reserved} | {e.correlation_id for e in short}) == 30
    assert (len(reserved), len(short)) == (10, 20)
    assert await stock_of(http, sku) == (10, 10, 0)


async def test_a_short_order_holds_what_is_there_and_reports_sourcing_and_lead_time_r4_2(http, probe):
    have = await a_product(http, on_hand=5)
    missing = await a_product(http, on_hand=2, sourcing="make", lead=9)
    order_id = uid("SO")

    await probe.publish(reserve(order_id, (have, 3), (missing, 6)))
    short = (await probe.wait_for("StockShort", order_id))[0].payload

    assert short["reserved"] == [{"sku": have, "quantity": 3}, {"sku": missing, "quantity": 2}]
    assert short["shortages"] == [{"sku": missing, "quantity": 4, "sourcing": "make", "lead_time_days": 9}]
    assert await stock_of(http, missing) == (2, 2, 0)


async def test_a_duplicated_reserve_stock_reserves_nothing_more(http, probe):
    sku = await a_product(http, on_hand=10)
    order_id = uid("SO")
    first = await probe.publish(reserve(order_id, (sku, 4)))
    await probe.wait_for("StockReserved", order_id)

    await probe.publish(reserve(order_id, (sku, 4)), envelope=first)
    await probe.publish(reserve(order_id, (sku, 4)))
    await probe.wait_for("StockReserved", order_id, count=3)

    assert await stock_of(http, sku) == (10, 4, 6)


async def test_releasing_gives_every_held_unit_back(http, probe):
    sku = await a_product(http, on_hand=3)
    order_id = uid("SO")
    await probe.publish(reserve(order_id, (sku, 5)))
    await probe.wait_for("StockShort", order_id)

    await probe.publish(ReleaseStock(order_id=order_id))
    released = (await probe.wait_for("StockReleased", order_id))[0].payload

    assert released["lines"] == [{"sku": sku, "quantity": 3}]
    assert await stock_of(http, sku) == (3, 0, 3)


async def test_a_release_before_the_reserve_leaves_a_tombstone_so_the_late_reserve_does_nothing(
    http, probe, stack
):
    sku = await a_product(http, on_hand=5)
    order_id = uid("SO")

    await probe.publish(ReleaseStock(order_id=order_id))
    assert (await probe.wait_for("StockReleased", order_id))[0].payload["lines"] == []
    late = await probe.publish(reserve(order_id, (sku, 2)))
    await handled(stack, "inventory", late)
    await synced(probe)

    assert probe.matching("StockReserved", order_id) == probe.matching("StockShort", order_id) == []
    assert await stock_of(http, sku) == (5, 0, 5)


async def test_a_release_racing_the_reserve_leaves_nothing_held(http, probe, stack):
    skus = [await a_product(http, on_hand=50) for _ in range(3)]
    orders = [uid("SO") for _ in range(10)]
    sent = []

    for order_id in orders:  # both at once: whichever lands first, nothing may stay held
        sent += await asyncio.gather(probe.publish(reserve(order_id, *((s, 2) for s in skus))),
                                     probe.publish(ReleaseStock(order_id=order_id)))  # fmt: skip
    await handled_all(stack, "inventory", sent)  # both of each pair, in whichever order they ran

    assert [await stock_of(http, s) for s in skus] == [(50, 0, 50)] * 3


async def test_received_supply_is_held_for_the_waiting_order_until_it_is_fully_reserved(http, probe):
    sku = await a_product(http, on_hand=2)
    order_id = uid("SO")
    await probe.publish(reserve(order_id, (sku, 5)))
    await probe.wait_for("StockShort", order_id)

    receipt = ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=3)
    first = await probe.publish(receipt)
    reserved = (await probe.wait_for("StockReserved", order_id))[0].payload
    await probe.publish(receipt, envelope=first)  # the same receipt redelivered
    await probe.wait_for("StockReceived", order_id, count=2)

    assert reserved["lines"] == [{"sku": sku, "quantity": 5}]
    assert await stock_of(http, sku) == (5, 5, 0)


async def test_supply_arriving_after_the_order_was_released_stays_as_stock_r7_1(http, probe):
    sku = await a_product(http, on_hand=0)
    order_id = uid("SO")
    await probe.publish(reserve(order_id, (sku, 4)))
    await probe.wait_for("StockShort", order_id)
    await probe.publish(ReleaseStock(order_id=order_id))
    await probe.wait_for("StockReleased", order_id)

    await probe.publish(ReceiveSupply(order_id=order_id, supply_order_id=uid("MO"), sku=sku, quantity=4))
    await probe.wait_for("StockReceived", order_id)

    assert probe.matching("StockReserved", order_id) == []
    assert await stock_of(http, sku) == (4, 0, 4)


async def test_shipping_takes_held_units_from_the_fullest_warehouse_once(http, probe):
    sku = await a_product(http, on_hand=2)
    await http.put(f"/stock/{sku}", json={"on_hand": 5, "warehouse": "east"})
    order_id = uid("SO")
    await probe.publish(reserve(order_id, (sku, 6)))
    await probe.wait_for("StockReserved", order_id)

    first = await probe.publish(CommitStock(order_id=order_id))
    committed = (await probe.wait_for("StockCommitted", order_id))[0].payload
    await probe.publish(CommitStock(order_id=order_id), envelope=first)
    await probe.wait_for("StockCommitted", order_id, count=2)
    body = (await http.get(f"/stock/{sku}")).json()

    assert committed["lines"] == [{"sku": sku, "quantity": 6}]
    assert (body["on_hand"], body["reserved"], body["available"]) == (1, 0, 1)
    assert body["warehouses"] == {"east": {"on_hand": 0}, "main": {"on_hand": 1}}


async def test_a_release_after_shipping_gives_nothing_back_r7_3(http, probe):
    sku = await a_product(http, on_hand=3)
    order_id = uid("SO")
    await probe.publish(reserve(order_id, (sku, 3)))
    await probe.wait_for("StockReserved", order_id)
    await probe.publish(CommitStock(order_id=order_id))
    await probe.wait_for("StockCommitted", order_id)

    await probe.publish(ReleaseStock(order_id=order_id))

    assert (await probe.wait_for("StockReleased", order_id))[0].payload["lines"] == []
    assert await stock_of(http, sku) == (0, 0, 0)


async def test_returned_goods_are_restocked_once_per_return_r8_3(http, probe):
    sku = await a_product(http, on_hand=1)
    order_id, return_id = uid("SO"), uid("RT")
    restock = RestockReturn(order_id=order_id, return_id=return_id, lines=[LineQty(sku=sku, quantity=2)])

    first = await probe.publish(restock)
    await probe.wait_for("ReturnRestocked", order_id)
    await probe.publish(restock, envelope=first)
    replies = await probe.wait_for("ReturnRestocked", order_id, count=2)

    assert replies[0].payload == {"order_id": order_id, "return_id": return_id,
                                  "lines": [{"sku": sku, "quantity": 2}]}  # fmt: skip
    assert await stock_of(http, sku) == (3, 0, 3)


async def test_a_reservation_of_an_unknown_sku_is_parked_not_retried_forever(http, probe, stack):
    await probe.parked("inventory")
    order_id = uid("SO")

    sent = await probe.publish(reserve(order_id, (uid("NOPE"), 1)))
    await parked_logged(stack, "inventory", sent)
    parked = await parked_until(probe, "inventory", 1)

    assert len(parked) == 1 and "unknown SKUs" in str(parked[0][1]["x-error"])
    assert parked[0][1]["x-attempts"] == 1  # parked at once, not after retries
