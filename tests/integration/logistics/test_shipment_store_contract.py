"""One behaviour, two adapters: logistics' shipment store (services/logistics/ports.py) as the
Mongo adapter on the real store server and as the in-memory fake the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.logistics.adapters import MongoShipmentStore
from services.logistics.adapters.mongo_shipments import to_doc
from services.logistics.domain import Shipment
from services.logistics.settings import Settings
from shared.contracts import ShipmentCancelled, ShipmentCreated
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_logistics import FakeShipmentStore
from tests.unit.logistics.builders import AT, a_shipment, uid

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def store(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeShipmentStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_logistics"]["shipments"]
    shipments = MongoShipmentStore(collection, Outbox(bus, Settings()))  # type: ignore[arg-type]
    await shipments.create_indexes()
    yield shipments, bus
    await client.close()


def created(shipment: Shipment) -> Envelope:
    message = ShipmentCreated(
        order_id=shipment.order_id,
        shipment_id=shipment.shipment_id,
        carrier=shipment.carrier,
        mode=shipment.mode,
        tracking_number=shipment.tracking_number,
    )
    return new_envelope(message, producer="logistics")


def cancelled(shipment: Shipment) -> Envelope:
    message = ShipmentCancelled(order_id=shipment.order_id, shipment_id=shipment.shipment_id)
    return new_envelope(message, producer="logistics")


async def test_a_shipment_reads_back_by_order_and_by_id_as_it_was_stored(store):
    shipments, _ = store
    shipment = a_shipment()

    await shipments.insert(shipment, [])
    by_order, by_id = (
        await shipments.load(shipment.order_id),
        await shipments.load_by_id(shipment.shipment_id),
    )

    assert by_order is not None and by_id is not None
    assert to_doc(by_order.aggregate) == to_doc(by_id.aggregate) == to_doc(shipment)
    assert await shipments.load(uid("SO")) is None and await shipments.load_by_id(uid("SH")) is None


async def test_a_second_shipment_for_one_order_is_refused(store):
    shipments, _ = store
    first = a_shipment()
    await shipments.insert(first, [])

    with pytest.raises(DuplicateKeyError):
        await shipments.insert(a_shipment(first.order_id), [])

    loaded = await shipments.load(first.order_id)
    assert loaded is not None and loaded.aggregate.shipment_id == first.shipment_id


async def test_a_save_from_a_stale_read_loses_its_race(store):
    shipments, _ = store
    shipment = a_shipment()
    await shipments.insert(shipment, [])
    first, second = await shipments.load(shipment.order_id), await shipments.load(shipment.order_id)

    first.aggregate.record("picked_up", AT)
    await shipments.save(first, [])

    with pytest.raises(ConcurrencyError):
        await shipments.save(second, [])
    stored = await shipments.load(shipment.order_id)
    assert stored.aggregate.status == "dispatched"


async def test_a_flush_publishes_exactly_what_its_write_staged_and_a_stale_reader_then_loses(store):
    shipments, bus = store
    shipment = a_shipment()
    left_over = created(shipment)
    await shipments.insert(shipment, [left_over])  # never flushed: the relay's, not the next writer's
    loaded, stale = await shipments.load(shipment.order_id), await shipments.load(shipment.order_id)
    mine = cancelled(shipment)

    saved = await shipments.save(loaded, [mine])
    await shipments.flush(saved)

    assert [e.message_id for e in bus.published] == [mine.message_id]
    after = await shipments.load(shipment.order_id)
    assert list(after.doc["outbox"]) == [left_over.message_id]  # cleared by id: only ours went
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await shipments.save(stale, [])


async def test_a_flushed_insert_leaves_an_empty_outbox_the_relay_need_not_visit(store):
    shipments, bus = store
    shipment = a_shipment()
    reply = created(shipment)

    await shipments.flush(await shipments.insert(shipment, [reply]))

    assert [e.message_id for e in bus.published] == [reply.message_id]
    after = await shipments.load(shipment.order_id)
    assert (after.doc["outbox"], after.doc["outbox_at"], after.doc["version"]) == ({}, None, 1)


async def test_what_a_flush_could_not_publish_stays_staged_for_the_relay(store):
    shipments, bus = store
    shipment = a_shipment()
    reply = created(shipment)
    bus.fail = True

    await shipments.flush(await shipments.insert(shipment, [reply]))

    after = await shipments.load(shipment.order_id)
    assert list(after.doc["outbox"]) == [reply.message_id] and after.doc["outbox_at"] is not None
    assert bus.published == []


async def test_a_repeated_reply_is_published_without_touching_the_document(store):
    shipments, bus = store
    shipment = a_shipment()
    await shipments.insert(shipment, [])
    reply = created(shipment)

    await shipments.publish([reply])

    assert [e.message_id for e in bus.published] == [reply.message_id]
    assert (await shipments.load(shipment.order_id)).doc["version"] == 1


async def test_the_fingerprint_tells_a_changed_shipment_from_an_unchanged_one(store):
    shipments, _ = store
    shipment = a_shipment()
    before = shipments.fingerprint(shipment)

    assert shipments.fingerprint(a_shipment()) != before  # another shipment
    shipment.record("picked_up", AT)
    assert shipments.fingerprint(shipment) != before


async def test_a_hold_and_a_rebooking_read_back_as_they_were_saved(store):
    shipments, _ = store
    shipment = a_shipment()
    await shipments.insert(shipment, [])
    loaded = await shipments.load(shipment.order_id)

    loaded.aggregate.hold("CH1", AT)  # R7.2: held for change CH1
    await shipments.save(loaded, [])
    held = await shipments.load(shipment.order_id)
    assert (held.aggregate.status, held.aggregate.held_by, held.aggregate.bookings) == ("held", "CH1", ("",))

    held.aggregate.rebook("CH1", carrier="Deppon Freight", mode="dedicated_vehicle",
                          tracking_number="DEP000000000002", consignee=shipment.consignee,
                          lines=(("LAMP-RED", 5),), amount=2_000_000, at=AT)  # fmt: skip
    await shipments.save(held, [])
    rebooked = await shipments.load_by_id(shipment.shipment_id)

    assert to_doc(rebooked.aggregate) == to_doc(held.aggregate)
    assert (rebooked.aggregate.bookings, rebooked.aggregate.held_by) == (("", "CH1"), None)
    assert (rebooked.doc["bookings"], rebooked.doc["held_by"]) == (["", "CH1"], None)


async def test_the_fingerprint_tells_a_held_shipment_from_the_booked_one(store):
    shipments, _ = store
    shipment = a_shipment()
    before = shipments.fingerprint(shipment)

    shipment.hold("CH1", AT)

    assert shipments.fingerprint(shipment) != before


async def test_a_shipment_stored_before_issue_8_reads_as_booked_once_and_not_held(mongo_url: str):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_logistics"]["shipments"]
    shipments = MongoShipmentStore(collection, Outbox(FakeBus(), Settings()))  # type: ignore[arg-type]
    old = a_shipment()
    await shipments.insert(old, [])
    await collection.update_one({"_id": old.shipment_id}, {"$unset": {"bookings": "", "held_by": ""}})
    try:
        loaded = await shipments.load(old.order_id)

        assert (loaded.aggregate.bookings, loaded.aggregate.held_by) == (("",), None)
        assert loaded.aggregate.hold("CH1", AT)  # and it can be held like any other
    finally:
        await client.close()


async def test_phones_that_shipments_booked_before_issue_7_kept_are_removed_at_start_up(mongo_url: str):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_logistics"]["shipments"]
    shipments = MongoShipmentStore(collection, Outbox(FakeBus(), Settings()))  # type: ignore[arg-type]
    old, new = a_shipment(), a_shipment()
    await shipments.insert(old, [])
    await shipments.insert(new, [])
    await collection.update_one({"_id": old.shipment_id}, {"$set": {"consignee.phone": "13812345678"}})
    try:
        assert (await shipments.load(old.order_id)).aggregate.consignee == old.consignee  # not read

        assert await shipments.forget_phones() == 1
        assert await shipments.forget_phones() == 0  # done once

        stored = await collection.find_one({"_id": old.shipment_id})
        assert stored is not None and set(stored["consignee"]) == {"name", "address"}
    finally:
        await client.close()
