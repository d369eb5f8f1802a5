"""One behaviour, two adapters: the order store's port (shared.aggregates.AggregateStore) as the
Mongo adapter on the real store server and the in-memory fake the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from pymongo import AsyncMongoClient

from services.intake.adapters import MongoOrderStore, to_fields
from shared import contracts as c
from shared.envelope import new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from tests.support.fakes import FakeBus, FakeOrderStore
from tests.unit.intake.builders import Builders

pytestmark = pytest.mark.integration


class StoreSettings(ServiceSettings):
    service_name: ClassVar[str] = "intake"


@pytest.fixture(params=["mongo", "fake"])
async def store(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeOrderStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_intake"]["orders"]
    yield MongoOrderStore(collection, Outbox(bus, StoreSettings())), bus  # type: ignore[arg-type]
    await client.close()


def command(order_id: str) -> c.Command:
    return c.CommitStock(order_id=order_id)


async def test_an_order_reads_back_as_it_was_stored(store):
    orders, _ = store
    order = Builders().order("booked")

    await orders.insert(order, [], {})
    loaded = await orders.load(order.order_id)

    assert loaded is not None and to_fields(loaded.aggregate) == to_fields(order)
    assert await orders.load("SO209901999") is None


async def test_a_save_from_a_stale_read_loses_its_race(store):
    orders, _ = store
    order = Builders().order("booked")
    await orders.insert(order, [], {})
    first, second = await orders.load(order.order_id), await orders.load(order.order_id)

    await orders.save(first, [])

    with pytest.raises(ConcurrencyError):
        await orders.save(second, [])


async def test_a_flush_publishes_exactly_what_its_save_staged_and_a_stale_reader_then_loses(store):
    orders, bus = store
    order = Builders().order("booked")
    await orders.insert(order, [new_envelope(command(order.order_id), producer="intake")], {})  # a left-over
    loaded = await orders.load(order.order_id)
    stale = await orders.load(order.order_id)
    mine = new_envelope(c.IssueInvoice(order_id=order.order_id, customer_id="C", total=0, lines=[]),
                        producer="intake")  # fmt: skip

    saved = await orders.save(loaded, [mine])
    await orders.flush(saved)

    assert [e.message_id for e in bus.published] == [mine.message_id]  # not the left-over: the relay's
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await orders.save(stale, [])


async def test_the_fingerprint_ignores_the_ids_of_absorbed_replies_and_nothing_else(store):
    orders, _ = store
    order = Builders().order("booked")
    before = orders.fingerprint(order)

    order.saga.processed.append("m-1")
    assert orders.fingerprint(order) == before
    order.flag("shipment_delayed")
    assert orders.fingerprint(order) != before
