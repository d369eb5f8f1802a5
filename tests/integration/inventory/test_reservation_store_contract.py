"""One behaviour, two adapters: the reservation and return-receipt stores' ports
(services/inventory/ports.py) as the Mongo adapters on the real store server and the in-memory
fakes the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.inventory.adapters import MongoReservationStore, MongoReturnReceiptStore
from services.inventory.adapters.mongo_reservations import to_fields
from services.inventory.domain import Reservation, ReturnReceipt
from services.inventory.settings import Settings
from shared import contracts as c
from shared.envelope import new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_inventory import FakeReservationStore, FakeReturnReceiptStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def stores(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeReservationStore(bus), FakeReturnReceiptStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_inventory"]
    outbox = Outbox(bus, Settings())  # type: ignore[arg-type]
    reservations = MongoReservationStore(db["reservations"], outbox)
    yield reservations, MongoReturnReceiptStore(db["return_receipts"], outbox), bus
    await client.close()


def a_reservation() -> Reservation:
    # Keys that need encoding in a map, and one SKU on two lines.
    lines = [("LAMP.RED", 2), ("BULB$E27", 4), ("LAMP.RED", 1)]
    return Reservation.start(f"SO-{uuid.uuid4().hex[:8]}", lines)


def reply(order_id: str) -> Any:
    return new_envelope(c.StockReleased(order_id=order_id, lines=[]), producer="inventory")


async def test_a_reservation_reads_back_as_it_was_stored_keys_and_line_order_included(stores):
    reservations, _, _ = stores
    reservation = a_reservation()
    reservation.record_hold("LAMP.RED", 3)

    await reservations.insert(reservation)
    loaded = await reservations.load(reservation.order_id)

    assert loaded is not None and to_fields(loaded.aggregate) == to_fields(reservation)
    assert list(loaded.aggregate.wanted) == ["LAMP.RED", "BULB$E27"]
    assert await reservations.load("SO-nobody") is None


async def test_a_second_insert_for_the_same_order_is_a_duplicate_key(stores):
    reservations, _, _ = stores
    reservation = a_reservation()
    await reservations.insert(reservation)

    with pytest.raises(DuplicateKeyError):
        await reservations.insert(Reservation.tombstone(reservation.order_id))


async def test_a_save_from_a_stale_read_loses_its_race(stores):
    reservations, _, _ = stores
    reservation = a_reservation()
    await reservations.insert(reservation)
    first = await reservations.load(reservation.order_id)
    second = await reservations.load(reservation.order_id)

    await reservations.save(first, [])

    with pytest.raises(ConcurrencyError):
        await reservations.save(second, [])


async def test_a_flush_publishes_exactly_what_its_write_staged_and_a_stale_reader_then_loses(stores):
    reservations, _, bus = stores
    reservation = a_reservation()
    await reservations.insert(reservation, [reply(reservation.order_id)])  # a left-over: the relay's
    loaded = await reservations.load(reservation.order_id)
    stale = await reservations.load(reservation.order_id)
    mine = reply(reservation.order_id)

    saved = await reservations.save(loaded, [mine])
    await reservations.flush(saved)

    assert [e.message_id for e in bus.published] == [mine.message_id]
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await reservations.save(stale, [])
    left = await reservations.load(reservation.order_id)
    assert list(left.doc["outbox"]) != [] and mine.message_id not in left.doc["outbox"]


async def test_an_insert_with_a_reply_flushes_it_and_clears_the_outbox(stores):
    reservations, _, bus = stores
    tombstone = Reservation.tombstone(f"SO-{uuid.uuid4().hex[:8]}")
    envelope = reply(tombstone.order_id)

    await reservations.flush(await reservations.insert(tombstone, [envelope]))

    assert bus.published == [envelope]
    left = await reservations.load(tombstone.order_id)
    assert (left.doc["outbox"], left.doc["outbox_at"], left.doc["version"]) == ({}, None, 1)


async def test_the_fingerprint_is_what_the_document_holds(stores):
    reservations, _, _ = stores
    reservation = a_reservation()
    before = reservations.fingerprint(reservation)

    assert reservations.fingerprint(reservation) == before
    reservation.release({})
    assert reservations.fingerprint(reservation) != before


async def test_a_return_is_recorded_once_and_its_reply_flushed(stores):
    _, receipts, bus = stores
    receipt = ReturnReceipt.of(f"RT-{uuid.uuid4().hex[:8]}", "SO-1", [("LAMP.RED", 1), ("LAMP.RED", 2)])
    envelope = new_envelope(c.ReturnRestocked(order_id="SO-1", return_id=receipt.return_id, lines=[]),
                            producer="inventory")  # fmt: skip

    await receipts.flush(await receipts.insert(receipt, [envelope]))

    assert bus.published == [envelope]
    assert await receipts.get(receipt.return_id) == receipt
    with pytest.raises(DuplicateKeyError):
        await receipts.insert(receipt, [envelope])
