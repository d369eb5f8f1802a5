"""The AdjustStock scenarios of tests/unit/inventory/test_inventory_adjusting.py again, on the Mongo
adapters on the real store server (issue 6: one behaviour, two adapters; issue 8, R7.2, R4.2): the
handlers as they run in the service, replies taken from the outbox on a fake bus."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.inventory import adjusting
from services.inventory.adapters import (
    MongoProductStore,
    MongoReservationStore,
    MongoReturnReceiptStore,
    MongoStockStore,
)
from services.inventory.deps import Inventory
from services.inventory.domain import Reservation
from services.inventory.settings import Settings
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.unit.inventory.test_inventory_adjusting import (  # noqa: F401  (collected here as well)
    a_product,
    adjust,
    answer,
    counters,
    run,
    test_a_changed_order_ships_what_it_wants_now,
    test_a_crash_between_two_skus_is_repaired_by_the_redelivery_nothing_moves_twice,
    test_a_decrease_from_5_to_2_releases_exactly_3_and_available_goes_up_by_3,
    test_a_duplicate_adjust_stock_changes_nothing_and_is_answered_again_under_the_same_id,
    test_an_adjustment_of_a_released_or_shipped_reservation_is_parked_and_moves_nothing,
    test_an_adjustment_to_a_sku_not_in_the_catalogue_is_parked_and_moves_nothing,
    test_an_adjustment_while_the_reserve_is_in_flight_is_retried_not_parked,
    test_an_increase_from_2_to_5_with_1_available_holds_1_and_reports_2_missing,
    test_an_order_short_3_units_cut_by_3_becomes_reserved_r4_2,
    test_removing_a_sku_releases_all_of_it_and_a_new_sku_is_held,
    test_supply_received_after_a_decrease_holds_only_what_is_missing_the_rest_is_stock,
    test_two_changes_in_sequence_each_start_from_what_the_last_left,
    uid,
    units,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
async def inv(bus: FakeBus, mongo_url: str) -> AsyncIterator[Inventory]:
    """An ``Inventory`` as bootstrap() wires it, on a fresh database; the outbox publishes to ``bus``."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_inventory"]
    settings = Settings()
    outbox = Outbox(bus, settings)  # type: ignore[arg-type]
    yield Inventory(settings=settings, products=MongoProductStore(db["products"]),
                    stock=MongoStockStore(db["stock"], settings.write_attempts),
                    reservations=MongoReservationStore(db["reservations"], outbox),
                    receipts=MongoReturnReceiptStore(db["return_receipts"], outbox))  # fmt: skip
    await client.close()


async def test_a_reservation_another_replica_finished_is_adjusted_not_retried_on_a_stale_copy(inv, bus):
    sku = await a_product(inv, 10)
    order_id = uid("SO")
    await inv.reservations.insert(Reservation.start(order_id, [(sku, 5)]))  # cached here as reserving
    assert isinstance(inv.reservations, MongoReservationStore)
    replica = MongoReservationStore(inv.reservations.collection, inv.reservations.outbox)
    loaded = await replica.load(order_id)
    assert loaded is not None
    loaded.aggregate.record_hold(sku, await inv.stock.hold(sku, order_id, 5))
    loaded.aggregate.finish()
    await replica.save(loaded)  # the reserve finished on another replica

    await run(adjusting.adjust_stock, adjust(order_id, "c1", (sku, 2)), inv)

    assert answer(bus) == {"released": [units(sku, 3)], "reserved": [], "missing": []}
    assert await counters(inv, sku) == (10, 2, 8)
