"""AdjustStock against in-memory fakes (issue 8, R7.2; R4.2 "cancelling the short lines"): what a
change, a repeat, a crash between SKUs and a receipt afterwards hold, release and answer.

The scenarios taking only ``inv`` and ``bus`` run again against the Mongo adapters in
tests/integration/inventory/test_inventory_adjusting_on_mongo.py (same behaviour, two adapters)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.inventory import adjusting, handlers
from services.inventory.adjusting import StillReserving
from services.inventory.deps import Inventory
from services.inventory.domain import HoldChange, Product, Reservation
from shared import contracts as c
from shared.envelope import Envelope, new_envelope, reply_id
from shared.errors import PermanentError
from tests.support.fakes import FakeBus
from tests.support.fakes_inventory import FakeReservationStore
from tests.support.fakes_inventory import fake_inventory as adjusting_inventory


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def inv(bus: FakeBus) -> Inventory:
    return adjusting_inventory(bus)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delivered(message: c.Message) -> Envelope:
    return new_envelope(message, producer="intake")


async def run(handler: Any, env: Envelope, inv: Inventory) -> None:
    await handler(env.message(), env, inv)


async def a_product(inv: Inventory, on_hand: int, sourcing: str = "buy", lead: int = 5) -> str:
    sku = uid("SKU")
    await inv.products.put(Product(sku, f"Lamp {sku}", 12_000, sourcing, lead))  # type: ignore[arg-type]
    await inv.stock.count(sku, "main", on_hand)
    return sku


async def counters(inv: Inventory, sku: str) -> tuple[int, int, int]:
    """(on_hand, reserved, available) as stored; reserved must be the sum of the holds."""
    doc = await inv.stock.get(sku)
    assert doc is not None
    assert doc["reserved"] == sum(doc["holds"].values())
    assert doc["available"] == doc["on_hand"] - doc["reserved"]
    return doc["on_hand"], doc["reserved"], doc["available"]


async def reserved(inv: Inventory, bus: FakeBus, *lines: tuple[str, int]) -> str:
    """An order whose ReserveStock was handled (reserved or short); the bus cleared."""
    order_id = uid("SO")
    command = c.ReserveStock(order_id=order_id, lines=[c.LineQty(sku=s, quantity=q) for s, q in lines])
    await run(handlers.reserve_stock, delivered(command), inv)
    bus.published.clear()
    return order_id


def adjust(order_id: str, change: str, *lines: tuple[str, int]) -> Envelope:
    lines_ = [c.LineQty(sku=sku, quantity=q) for sku, q in lines]
    return delivered(c.AdjustStock(order_id=order_id, change_id=f"{order_id}:{change}", lines=lines_))


async def stored(inv: Inventory, order_id: str) -> tuple[Reservation, int]:
    """The reservation as stored, and its document's version (a write bumps it)."""
    loaded = await inv.reservations.load(order_id)
    assert loaded is not None
    return loaded.aggregate, loaded.doc["version"]


def answer(bus: FakeBus) -> dict[str, Any]:
    """The payload of the one StockAdjusted published, minus the ids."""
    [reply] = [e for e in bus.published if e.type == "StockAdjusted"]
    return {k: v for k, v in reply.payload.items() if k in ("released", "reserved", "missing")}


def units(sku: str, quantity: int) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity}


# --- scenarios run on the fakes here and on the Mongo adapters in the integration tier ----------


async def test_a_decrease_from_5_to_2_releases_exactly_3_and_available_goes_up_by_3(inv, bus):
    sku = await a_product(inv, 10)
    order_id = await reserved(inv, bus, (sku, 5))
    command = adjust(order_id, "c1", (sku, 2))

    await run(adjusting.adjust_stock, command, inv)

    assert answer(bus) == {"released": [units(sku, 3)], "reserved": [], "missing": []}
    assert bus.published[0].message_id == reply_id(command, bus.published[0].message())
    assert await counters(inv, sku) == (10, 2, 8)
    reservation, _ = await stored(inv, order_id)
    assert (reservation.status, reservation.wanted, reservation.held) == ("reserved", {sku: 2}, {sku: 2})


async def test_an_increase_from_2_to_5_with_1_available_holds_1_and_reports_2_missing(inv, bus):
    sku = await a_product(inv, 4, sourcing="make", lead=9)
    order_id = await reserved(inv, bus, (sku, 2))
    other = await reserved(inv, bus, (sku, 1))  # its hold is never taken

    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 5)), inv)

    missing = {"sku": sku, "quantity": 2, "sourcing": "make", "lead_time_days": 9}
    assert answer(bus) == {"released": [], "reserved": [units(sku, 1)], "missing": [missing]}
    assert await counters(inv, sku) == (4, 4, 0)
    reservation, _ = await stored(inv, order_id)
    assert (reservation.status.value, reservation.held) == ("short", {sku: 3})
    assert (await stored(inv, other))[0].held == {sku: 1}


async def test_removing_a_sku_releases_all_of_it_and_a_new_sku_is_held(inv, bus):
    kept, removed, added = await a_product(inv, 5), await a_product(inv, 5), await a_product(inv, 5)
    order_id = await reserved(inv, bus, (kept, 2), (removed, 4))

    await run(adjusting.adjust_stock, adjust(order_id, "c1", (kept, 2), (added, 1)), inv)

    assert answer(bus) == {"released": [units(removed, 4)], "reserved": [units(added, 1)], "missing": []}
    assert await counters(inv, removed) == (5, 0, 5)
    assert await counters(inv, added) == (5, 1, 4)
    reservation, _ = await stored(inv, order_id)
    assert reservation.wanted == {kept: 2, removed: 0, added: 1} and reservation.status.value == "reserved"

    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)  # visits all three
    assert [await counters(inv, sku) for sku in (kept, removed, added)] == [(5, 0, 5)] * 3


async def test_an_order_short_3_units_cut_by_3_becomes_reserved_r4_2(inv, bus):
    short, full = await a_product(inv, 2), await a_product(inv, 5)
    order_id = await reserved(inv, bus, (short, 5), (full, 1))  # short 3

    await run(adjusting.adjust_stock, adjust(order_id, "c1", (short, 2), (full, 1)), inv)

    assert answer(bus) == {"released": [], "reserved": [], "missing": []}
    reservation, _ = await stored(inv, order_id)
    assert reservation.status.value == "reserved" and reservation.held_lines() == [(short, 2), (full, 1)]
    assert await counters(inv, short) == (2, 2, 0)


async def test_a_duplicate_adjust_stock_changes_nothing_and_is_answered_again_under_the_same_id(inv, bus):
    sku = await a_product(inv, 10)
    order_id = await reserved(inv, bus, (sku, 5))
    command = adjust(order_id, "c1", (sku, 2))
    await run(adjusting.adjust_stock, command, inv)
    _, version = await stored(inv, order_id)
    await inv.stock.count(sku, "main", 20)  # more stock meanwhile: a repeat still holds nothing

    await run(adjusting.adjust_stock, command, inv)  # redelivered
    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)  # sent again, a new id

    first, again, resent = bus.published
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert resent.type == "StockAdjusted" and resent.payload["released"] == first.payload["released"]
    assert (await stored(inv, order_id))[1] == version  # nothing written
    assert await counters(inv, sku) == (20, 2, 18)


async def test_two_changes_in_sequence_each_start_from_what_the_last_left(inv, bus):
    sku = await a_product(inv, 6)
    order_id = await reserved(inv, bus, (sku, 5))

    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)
    first = answer(bus)
    bus.published.clear()
    await run(adjusting.adjust_stock, adjust(order_id, "c2", (sku, 8)), inv)

    missing = {"sku": sku, "quantity": 2, "sourcing": "buy", "lead_time_days": 5}
    assert first == {"released": [units(sku, 3)], "reserved": [], "missing": []}
    assert answer(bus) == {"released": [], "reserved": [units(sku, 4)], "missing": [missing]}
    assert await counters(inv, sku) == (6, 6, 0)
    reservation, _ = await stored(inv, order_id)
    assert set(reservation.adjustments) == {f"{order_id}:c1", f"{order_id}:c2"}

    bus.published.clear()
    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)  # the first, late again
    assert answer(bus) == first and await counters(inv, sku) == (6, 6, 0)  # answered, nothing undone


async def test_supply_received_after_a_decrease_holds_only_what_is_missing_the_rest_is_stock(inv, bus):
    sku = await a_product(inv, 1)
    order_id = await reserved(inv, bus, (sku, 6))  # holds 1, short 5 (a supply order of 5 is open)
    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 3)), inv)  # now short 2
    bus.published.clear()

    receipt = c.ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=5)
    await run(handlers.receive_supply, delivered(receipt), inv)

    assert bus.types() == ["StockReceived", "StockReserved"]
    assert bus.published[1].payload["lines"] == [units(sku, 3)]
    assert await counters(inv, sku) == (6, 3, 3)  # 3 of the 5 arrived units stay free stock
    assert (await stored(inv, order_id))[0].status.value == "reserved"


async def test_a_crash_between_two_skus_is_repaired_by_the_redelivery_nothing_moves_twice(inv, bus):
    first, second = await a_product(inv, 10), await a_product(inv, 10)
    order_id = await reserved(inv, bus, (first, 5), (second, 1))
    command = adjust(order_id, "c1", (first, 2), (second, 4))
    adjust_sku = inv.stock.adjust
    crashed: list[str] = []

    async def crash_at_the_second_sku(sku: str, order: str, change: str, wanted: int) -> HoldChange:
        if sku == second and not crashed:
            crashed.append(sku)
            raise ConnectionError("the process died here")
        return await adjust_sku(sku, order, change, wanted)

    inv.stock.adjust = crash_at_the_second_sku  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await run(adjusting.adjust_stock, command, inv)
    assert await counters(inv, first) == (10, 2, 8)  # the first SKU's step was made
    assert bus.published == []

    await run(adjusting.adjust_stock, command, inv)  # the bus delivers it again

    assert answer(bus) == {"released": [units(first, 3)], "reserved": [units(second, 3)], "missing": []}
    assert await counters(inv, first) == (10, 2, 8)  # not released twice
    assert await counters(inv, second) == (10, 4, 6)
    assert (await stored(inv, order_id))[0].status.value == "reserved"


async def test_an_adjustment_of_a_released_or_shipped_reservation_is_parked_and_moves_nothing(inv, bus):
    sku = await a_product(inv, 10)
    released, shipped = await reserved(inv, bus, (sku, 2)), await reserved(inv, bus, (sku, 3))
    await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=released)), inv)
    await run(handlers.commit_stock, delivered(c.CommitStock(order_id=shipped)), inv)
    bus.published.clear()
    versions = [(await stored(inv, order))[1] for order in (released, shipped)]

    with pytest.raises(PermanentError, match="reservation was released"):
        await run(adjusting.adjust_stock, adjust(released, "c1", (sku, 4)), inv)
    with pytest.raises(PermanentError, match="a change after shipping is a return"):
        await run(adjusting.adjust_stock, adjust(shipped, "c1", (sku, 1)), inv)
    with pytest.raises(PermanentError, match="no reservation"):
        await run(adjusting.adjust_stock, adjust(uid("SO"), "c1", (sku, 1)), inv)

    assert bus.published == []
    assert [(await stored(inv, order))[1] for order in (released, shipped)] == versions
    assert await counters(inv, sku) == (7, 0, 7)


async def test_an_adjustment_while_the_reserve_is_in_flight_is_retried_not_parked(inv, bus):
    sku = await a_product(inv, 10)
    order_id = uid("SO")
    await inv.reservations.insert(Reservation.start(order_id, [(sku, 2)]))  # begun, no hold yet

    with pytest.raises(StillReserving):
        await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 4)), inv)

    assert not issubclass(StillReserving, PermanentError)
    assert bus.published == [] and await counters(inv, sku) == (10, 0, 10)


async def test_an_adjustment_to_a_sku_not_in_the_catalogue_is_parked_and_moves_nothing(inv, bus):
    sku = await a_product(inv, 10)
    order_id = await reserved(inv, bus, (sku, 5))

    with pytest.raises(PermanentError, match="unknown SKUs"):
        await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2), ("NOPE", 1)), inv)

    assert bus.published == [] and await counters(inv, sku) == (10, 5, 5)


async def test_a_changed_order_ships_what_it_wants_now(inv, bus):
    kept, removed = await a_product(inv, 5), await a_product(inv, 5)
    order_id = await reserved(inv, bus, (kept, 4), (removed, 2))
    await run(adjusting.adjust_stock, adjust(order_id, "c1", (kept, 1)), inv)
    bus.published.clear()

    await run(handlers.commit_stock, delivered(c.CommitStock(order_id=order_id)), inv)

    assert [(e.type, e.payload["lines"]) for e in bus.published] == [("StockCommitted", [units(kept, 1)])]
    assert await counters(inv, kept) == (4, 0, 4)
    assert await counters(inv, removed) == (5, 0, 5)


# --- races the fakes can stage (``before_next_save``) -------------------------------------------


def reservations(inv: Inventory) -> FakeReservationStore:
    assert isinstance(inv.reservations, FakeReservationStore)
    return inv.reservations


async def test_a_receipt_landing_while_a_change_cuts_the_order_leaves_only_what_is_wanted_held(inv, bus):
    sku = await a_product(inv, 1)
    order_id = await reserved(inv, bus, (sku, 6))  # holds 1, short 5
    receipt = delivered(c.ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=5))

    async def racing_receipt() -> None:  # read the order short 5, held 5 more, wrote first
        await run(handlers.receive_supply, receipt, inv)

    reservations(inv).before_next_save.append(racing_receipt)
    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)  # decided again on its write

    assert await counters(inv, sku) == (6, 2, 4)  # the order keeps 2; the rest is free stock
    reservation, _ = await stored(inv, order_id)
    assert (reservation.status.value, reservation.held) == ("reserved", {sku: 2})
    assert answer(bus) == {"released": [], "reserved": [], "missing": []}  # the receipt held the unit
    assert bus.types() == ["StockReceived", "StockReserved", "StockAdjusted"]  # the first for the old lines


async def test_a_change_landing_while_a_receipt_is_written_leaves_only_what_is_wanted_held(inv, bus):
    sku = await a_product(inv, 1)
    order_id = await reserved(inv, bus, (sku, 6))  # holds 1, short 5
    receipt = delivered(c.ReceiveSupply(order_id=order_id, supply_order_id=uid("PO"), sku=sku, quantity=5))

    async def racing_change() -> None:  # sees the receipt's hold on the stock, writes first
        await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)

    reservations(inv).before_next_save.append(racing_change)
    await run(handlers.receive_supply, receipt, inv)  # decided again on the change's write

    assert await counters(inv, sku) == (6, 2, 4)
    reservation, _ = await stored(inv, order_id)
    assert (reservation.status, reservation.held, reservation.wanted) == ("reserved", {sku: 2}, {sku: 2})
    assert bus.types() == ["StockAdjusted", "StockReceived"]


async def test_a_release_racing_a_change_that_holds_a_new_sku_gets_every_unit_back(inv, bus):
    old, new = await a_product(inv, 5), await a_product(inv, 5)
    order_id = await reserved(inv, bus, (old, 2))

    async def racing_release() -> None:  # closes and sweeps the old SKU before the change's write
        await run(handlers.release_stock, delivered(c.ReleaseStock(order_id=order_id)), inv)

    reservations(inv).before_next_save.append(racing_release)
    with pytest.raises(PermanentError, match="released"):
        await run(adjusting.adjust_stock, adjust(order_id, "c1", (old, 2), (new, 3)), inv)

    assert await counters(inv, old) == (5, 0, 5)
    assert await counters(inv, new) == (5, 0, 5)  # the change's hold on the new SKU was given back
    assert bus.types() == ["StockReleased"]
