"""One behaviour, two adapters: fulfillment's supply-request store (services/fulfillment/ports.py)
as the Mongo adapter on the real store server and as the in-memory fake the handler tests use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.fulfillment.adapters import MongoSupplyRequestStore
from services.fulfillment.domain import SupplyRequest
from services.fulfillment.settings import Settings
from shared.contracts import SupplyCancelled, SupplyChanged, SupplyOrderRef
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_fulfillment import FakeSupplyRequestStore
from tests.unit.fulfillment.builders import uid

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def store(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeSupplyRequestStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_fulfillment"]["supply_requests"]
    yield MongoSupplyRequestStore(collection, Outbox(bus, Settings())), bus  # type: ignore[arg-type]
    await client.close()


def cancelled(order_id: str) -> Envelope:
    return new_envelope(SupplyCancelled(order_id=order_id, supply_order_ids=[]), producer="fulfillment")


def raised(order_id: str, *supply_order_ids: str) -> SupplyRequest:
    request = SupplyRequest(order_id)
    request.record(supply_order_ids)
    return request


async def test_a_request_reads_back_as_it_was_stored(store):
    requests, _ = store
    request = raised(uid("SO"), "PO-1", "MO-2")

    await requests.insert(request, [])
    loaded = await requests.load(request.order_id)

    assert loaded is not None and requests.fingerprint(loaded.aggregate) == requests.fingerprint(request)
    assert loaded.aggregate.supply_order_ids == ["PO-1", "MO-2"] and not loaded.aggregate.is_cancelled
    assert await requests.load(uid("SO")) is None


async def test_the_answers_to_order_changes_read_back_even_with_dots_in_their_ids(store):
    requests, _ = store
    order_id = uid("SO.2024")  # ids from outside may hold '.', which MongoDB reads as a path
    request = raised(order_id, "PO-1")
    ref = SupplyOrderRef(supply_order_id="MO-2", kind="production", sku="LAMP.RED", quantity=4,
                         expected_at="2026-05-06T09:00:00+00:00")  # fmt: skip
    kept = {"LAMP.RED": "production of LAMP.RED started"}
    answer = SupplyChanged(order_id=order_id, change_id=f"{order_id}:c1", supply_orders=[ref],
                           cancelled=["PO-1"], kept=kept)  # fmt: skip
    request.answer_change(answer)

    await requests.insert(request, [])
    loaded = (await requests.load(order_id)).aggregate

    assert loaded.changes == {answer.change_id: answer}
    assert loaded.supply_order_ids == ["PO-1", "MO-2"]
    assert requests.fingerprint(loaded) == requests.fingerprint(request)


async def test_a_second_request_for_one_order_is_refused(store):
    requests, _ = store
    order_id = uid("SO")
    await requests.insert(SupplyRequest.tombstone(order_id), [])

    with pytest.raises(DuplicateKeyError):
        await requests.insert(raised(order_id, "PO-1"), [])

    assert (await requests.load(order_id)).aggregate.is_cancelled


async def test_a_save_from_a_stale_read_loses_its_race(store):
    requests, _ = store
    order_id = uid("SO")
    await requests.insert(raised(order_id, "PO-1"), [])
    first, second = await requests.load(order_id), await requests.load(order_id)

    first.aggregate.cancel(["PO-1"])
    await requests.save(first, [])

    with pytest.raises(ConcurrencyError):
        await requests.save(second, [])
    assert (await requests.load(order_id)).aggregate.cancelled_ids == ["PO-1"]


async def test_a_flush_publishes_exactly_what_its_write_staged_and_a_stale_reader_then_loses(store):
    requests, bus = store
    order_id = uid("SO")
    left_over = cancelled(order_id)
    await requests.insert(raised(order_id), [left_over])  # never flushed: the relay's
    loaded, stale = await requests.load(order_id), await requests.load(order_id)
    mine = cancelled(order_id)

    await requests.flush(await requests.save(loaded, [mine]))

    assert [e.message_id for e in bus.published] == [mine.message_id]
    assert list((await requests.load(order_id)).doc["outbox"]) == [left_over.message_id]
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await requests.save(stale, [])


async def test_a_flushed_insert_leaves_nothing_for_the_relay_and_a_failed_one_leaves_it_staged(store):
    requests, bus = store
    published, kept = uid("SO"), uid("SO")

    await requests.flush(await requests.insert(SupplyRequest.tombstone(published), [cancelled(published)]))
    bus.fail = True
    await requests.flush(await requests.insert(SupplyRequest.tombstone(kept), [cancelled(kept)]))

    done, waiting = (await requests.load(published)).doc, (await requests.load(kept)).doc
    assert (done["outbox"], done["outbox_at"]) == ({}, None)
    assert len(waiting["outbox"]) == 1 and waiting["outbox_at"] is not None
    assert [e.correlation_id for e in bus.published] == [published]


async def test_a_repeated_reply_is_published_without_a_write(store):
    requests, bus = store
    order_id = uid("SO")
    await requests.insert(raised(order_id), [])
    reply = cancelled(order_id)

    await requests.publish([reply])

    assert [e.message_id for e in bus.published] == [reply.message_id]
    assert (await requests.load(order_id)).doc["version"] == 1


async def test_the_fingerprint_tells_a_changed_request_from_an_unchanged_one(store):
    requests, _ = store
    request = raised(uid("SO"), "PO-1")
    before = requests.fingerprint(request)

    request.record(["PO-1"])  # already recorded: nothing changes
    assert requests.fingerprint(request) == before
    request.cancel([])
    assert requests.fingerprint(request) != before
