"""The inventory's handlers against in-memory fakes of their ports (tests/support/fakes_inventory.py):
what a command, a duplicate, a lost race or a tombstone writes and sends. The same store behaviour
is held to the Mongo adapters by tests/integration/inventory/test_*_store_contract.py."""

from __future__ import annotations

import uuid

import pytest

from services.inventory import handlers
from services.inventory.deps import Inventory
from services.inventory.domain import Product
from shared import contracts as c
from shared.envelope import Envelope, new_envelope, reply_id
from shared.errors import PermanentError
from tests.support.fakes import FakeBus
from tests.support.fakes_inventory import FakeReservationStore, FakeStockStore, fake_inventory


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def inv(bus: FakeBus) -> Inventory:
    return fake_inventory(bus)


def reservations(inv: Inventory) -> FakeReservationStore:
    assert isinstance(inv.reservations, FakeReservationStore)
    return inv.reservations


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delivered(message: c.Message) -> Envelope:
    return new_envelope(message, producer="intake")


async def a_product(inv: Inventory, on_hand: int) -> str:
    sku = uid("SKU")
    await inv.products.put(Product(sku, f"Lamp {sku}", 12_000, "buy", 5))
    await inv.stock.count(sku, "main", on_hand)
    return sku


async def counters(inv: Inventory, sku: str) -> tuple[int, int, int]:
    doc = await inv.stock.get(sku)
    assert doc is not None
    return doc["on_hand"], doc["reserved"], doc["available"]


def reserve(order_id: str, sku: str, quantity: int) -> Envelope:
    return delivered(c.ReserveStock(order_id=order_id, lines=[c.LineQty(sku=sku, quantity=quantity)]))


async def run(handler, env: Envelope, inv: Inventory) -> None:  # type: ignore[no-untyped-def]
    await handler(env.message(), env, inv)


async def reserved_order(inv: Inventory, bus: FakeBus, on_hand: int, wanted: int) -> tuple[str, str]:
    sku, order_id = await a_product(inv, on_hand), uid("SO")
    await run(handlers.reserve_stock, reserve(order_id, sku, wanted), inv)
    bus.published.clear()
    return sku, order_id


async def test_a_reservation_is_stored_before_it_holds_then_written_once_with_one_reply(inv, bus):
    sku, order_id = await a_product(inv, 10), uid("SO")
    command = reserve(order_id, sku, 4)

    await run(handlers.reserve_stock, command, inv)

    assert reservations(inv).writes == 2  # begun (so a racing release finds it), then the outcome
    answer = reply_id(command, c.StockReserved(order_id=order_id, lines=[]))
    assert [(e.type, e.message_id) for e in bus.published] == [("StockReserved", answer)]
    assert await counters(inv, sku) == (10, 4, 6)
    assert reservations(inv).docs[order_id]["outbox"] == {}  # cleared by id after the publish


async def test_a_duplicate_reserve_writes_nothing_and_is_answered_again_under_the_same_id(inv, bus):
    sku, order_id = await a_product(inv, 10), uid("SO")
    command = reserve(order_id, sku, 4)
    await run(handlers.reserve_stock, command, inv)
    writes, first = reservations(inv).writes, bus.published[-1]

    await run(handlers.reserve_stock, command, inv)  # the same delivery again
    await run(handlers.reserve_stock, reserve(order_id, sku, 4), inv)  # sent again under a new id

    assert reservations(inv).writes == writes
    again, separate = bus.published[1:]
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert separate.type == "StockReserved" and separate.message_id != first.message_id  # its own answer
    assert await counters(inv, sku) == (10, 4, 6)  # nothing more reserved


async def test_a_reserve_that_loses_its_race_to_the_release_is_decided_again_and_holds_nothing(inv, bus):
    sku, order_id = await a_product(inv, 10), uid("SO")

    hold = inv.stock.hold

    async def racing_release() -> None:
        await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)

    async def hold_then_race(sku: str, order: str, wanted: int) -> int:  # the release lands between
        reservations(inv).before_next_save.append(racing_release)  # the reserve's holds and its write
        return await hold(sku, order, wanted)

    inv.stock.hold = hold_then_race  # type: ignore[method-assign]
    await run(handlers.reserve_stock, reserve(order_id, sku, 4), inv)

    assert bus.types() == ["StockReleased"]  # decided again on "released": no StockReserved
    assert bus.published[0].payload["lines"] == [{"sku": sku, "quantity": 4}]
    assert reservations(inv).docs[order_id]["status"] == "released"
    assert await counters(inv, sku) == (10, 0, 10)


async def test_a_release_before_the_reserve_leaves_a_tombstone_so_the_late_reserve_does_nothing(inv, bus):
    sku, order_id = await a_product(inv, 5), uid("SO")

    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)
    writes = reservations(inv).writes
    await run(handlers.reserve_stock, reserve(order_id, sku, 2), inv)

    assert writes == 1 and reservations(inv).writes == 1  # the tombstone, with its reply staged
    assert [(e.type, e.payload["lines"]) for e in bus.published] == [("StockReleased", [])]
    assert await counters(inv, sku) == (5, 0, 5)


async def test_a_release_closes_the_reservation_before_it_sweeps_the_stock(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=3, wanted=5)
    seen: list[str] = []
    sweep = inv.stock.release

    async def release(sku: str, order: str) -> int:
        seen.append(reservations(inv).docs[order]["status"])
        return await sweep(sku, order)

    inv.stock.release = release  # type: ignore[method-assign]
    command = delivered(c.ReleaseStock(order_id=order_id))
    await run(handlers.release_stock, command, inv)

    assert seen == ["released"]  # a reserve or receipt running now sees it closed and undoes its hold
    [released] = bus.published
    assert (released.type, released.payload["lines"]) == ("StockReleased", [{"sku": sku, "quantity": 3}])
    assert await counters(inv, sku) == (3, 0, 3)


async def test_a_duplicate_release_writes_nothing_and_is_answered_again_under_the_same_id(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=3, wanted=2)
    command = delivered(c.ReleaseStock(order_id=order_id))
    await run(handlers.release_stock, command, inv)
    writes = reservations(inv).writes

    await run(handlers.release_stock, command, inv)

    assert reservations(inv).writes == writes
    assert [e.message_id for e in bus.published] == [bus.published[0].message_id] * 2
    assert bus.published[1].payload == bus.published[0].payload
    assert await counters(inv, sku) == (3, 0, 3)


async def test_shipping_commits_once_and_a_duplicate_is_answered_again_without_a_write(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=6, wanted=6)
    writes = reservations(inv).writes
    command = delivered(c.CommitStock(order_id=order_id))

    await run(handlers.commit_stock, command, inv)
    await run(handlers.commit_stock, command, inv)

    assert reservations(inv).writes == writes + 1
    assert [e.type for e in bus.published] == ["StockCommitted"] * 2
    assert len({e.message_id for e in bus.published}) == 1
    assert await counters(inv, sku) == (0, 0, 0)


async def test_a_release_after_shipping_gives_nothing_back_and_writes_nothing_r7_3(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=3, wanted=3)
    await run(handlers.commit_stock, delivered(c.CommitStock(order_id=order_id)), inv)
    writes = reservations(inv).writes

    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)

    assert reservations(inv).writes == writes
    assert [(e.type, e.payload["lines"]) for e in bus.published[1:]] == [("StockReleased", [])]
    assert await counters(inv, sku) == (0, 0, 0)


async def test_committing_a_released_reservation_is_parked_and_writes_nothing(inv, bus):
    _, order_id = await reserved_order(inv, bus, on_hand=3, wanted=3)
    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)
    writes = reservations(inv).writes

    with pytest.raises(PermanentError, match="reservation released"):
        await run(handlers.commit_stock, delivered(c.CommitStock(order_id=order_id)), inv)
    with pytest.raises(PermanentError, match="reservation missing"):
        await run(handlers.commit_stock, delivered(c.CommitStock(order_id=uid("SO"))), inv)

    assert reservations(inv).writes == writes


async def test_received_supply_completes_a_short_order_once_when_two_receipts_race(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=0, wanted=5)
    first = delivered(c.ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=3))
    second = delivered(c.ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=2))

    async def racing_receipt() -> None:  # the other supply order lands before the first one's write
        await run(handlers.receive_supply, second, inv)

    reservations(inv).before_next_save.append(racing_receipt)
    await run(handlers.receive_supply, first, inv)
    await run(handlers.receive_supply, first, inv)  # redelivered: answered again, nothing counted

    assert bus.types() == ["StockReceived", "StockReserved", "StockReceived", "StockReceived"]
    assert bus.published[2].message_id == bus.published[3].message_id
    assert await counters(inv, sku) == (5, 5, 0)


async def test_supply_for_a_released_or_unknown_order_stays_as_stock_r7_1(inv, bus):
    sku, order_id = await reserved_order(inv, bus, on_hand=0, wanted=4)
    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)
    late = c.ReceiveSupply(order_id=order_id, supply_order_id=uid("MO"), sku=sku, quantity=4)
    stray = c.ReceiveSupply(order_id=uid("SO"), supply_order_id=uid("MO"), sku=sku, quantity=1)

    await run(handlers.receive_supply, delivered(late), inv)
    await run(handlers.receive_supply, delivered(stray), inv)

    assert bus.types() == ["StockReleased", "StockReceived"]  # nothing said for an order never reserved
    assert await counters(inv, sku) == (5, 0, 5)


async def test_a_return_is_restocked_once_and_a_duplicate_is_answered_again_under_the_same_id(inv, bus):
    sku = await a_product(inv, 1)
    lines = [c.LineQty(sku=sku, quantity=1), c.LineQty(sku=sku, quantity=1)]
    command = delivered(c.RestockReturn(order_id=uid("SO"), return_id=uid("RT"), lines=lines))

    await run(handlers.restock_return, command, inv)
    await run(handlers.restock_return, command, inv)

    assert [e.payload["lines"] for e in bus.published] == [[{"sku": sku, "quantity": 2}]] * 2
    assert len({e.message_id for e in bus.published}) == 1
    assert inv.receipts.writes == 1  # type: ignore[attr-defined]
    assert await counters(inv, sku) == (3, 0, 3)


async def test_a_reservation_of_an_unknown_sku_is_parked_and_holds_nothing(inv, bus):
    order_id = uid("SO")

    with pytest.raises(PermanentError, match="unknown SKUs"):
        await run(handlers.reserve_stock, reserve(order_id, "NOPE", 1), inv)

    assert bus.published == [] and isinstance(inv.stock, FakeStockStore) and inv.stock.docs == {}
