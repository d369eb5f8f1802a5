"""One behaviour, two adapters: the customer store's port (services/billing/ports.py, an
``AggregateStore``) and the order-credit links, as the Mongo adapters on the real store server and
the in-memory fakes the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.billing.adapters import MongoCustomerStore, MongoOrderLinkStore
from services.billing.adapters.mongo_customers import to_doc
from services.billing.adapters.mongo_order_links import is_released
from services.billing.domain import Customer, Payment
from services.billing.settings import Settings
from shared import contracts as c
from shared.envelope import new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import FakeCustomerStore, FakeOrderLinkStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def stores(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeCustomerStore(bus), FakeOrderLinkStore(), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_billing"]
    customers = MongoCustomerStore(db["customers"], Outbox(bus, Settings()))  # type: ignore[arg-type]
    yield customers, MongoOrderLinkStore(db["order_credit"]), bus
    await client.close()


def a_customer(limit: int = 100_000) -> Customer:
    return Customer(f"CUST-{uuid.uuid4().hex[:8]}", "Shanghai Lamp Co., Ltd.", "credit", limit)


def released(order_id: str) -> Any:
    return new_envelope(c.CreditReleased(order_id=order_id, amount=0), producer="billing")


async def test_a_customer_reads_back_as_stored_with_ids_that_need_encoding(stores):
    customers, _, _ = stores
    customer = a_customer()
    customer.reserve("SO.2026$1", 30_000)
    customer.record_payment(Payment("TT-2024.05.06", "SO.2026$1", 1_000, datetime(2026, 5, 6, tzinfo=UTC)))

    await customers.add(customer)
    loaded = await customers.load(customer.customer_id)

    assert loaded is not None and to_doc(loaded.aggregate) == to_doc(customer)
    assert await customers.load("CUST-nobody") is None


async def test_a_second_add_of_the_same_customer_is_a_duplicate_key(stores):
    customers, _, _ = stores
    customer = a_customer()
    await customers.add(customer)

    with pytest.raises(DuplicateKeyError):
        await customers.add(customer)


async def test_a_save_from_a_stale_read_loses_its_race(stores):
    customers, _, _ = stores
    customer = a_customer()
    await customers.add(customer)
    first = await customers.load(customer.customer_id)
    second = await customers.load(customer.customer_id)

    await customers.save(first, [])

    with pytest.raises(ConcurrencyError):
        await customers.save(second, [])


async def test_a_flush_publishes_exactly_what_its_save_staged_and_a_stale_reader_then_loses(stores):
    customers, _, bus = stores
    customer = a_customer()
    await customers.add(customer)
    left_over = await customers.save(await customers.load(customer.customer_id), [released("SO-1")])
    loaded = await customers.load(customer.customer_id)
    stale = await customers.load(customer.customer_id)
    mine = released("SO-2")

    saved = await customers.save(loaded, [mine])
    await customers.flush(saved)

    assert [e.message_id for e in bus.published] == [mine.message_id]  # not the left-over: the relay's
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await customers.save(stale, [])
    assert list((await customers.load(customer.customer_id)).doc["outbox"]) == list(left_over.doc["outbox"])


async def test_the_fingerprint_changes_with_what_billing_stores_and_nothing_else(stores):
    customers, _, _ = stores
    customer = a_customer()
    before = customers.fingerprint(customer)

    customer.reserve("SO-1", 1_000_000)  # refused: recorded, no exposure
    refused = customers.fingerprint(customer)
    customer.reserve("SO-1", 1_000_000)  # the same refusal again: nothing to write

    assert refused != before and customers.fingerprint(customer) == refused


async def test_a_link_claimed_first_names_its_customer_and_a_release_first_leaves_a_tombstone(stores):
    _, links, _ = stores
    linked, tombstone = f"SO-{uuid.uuid4().hex[:8]}", f"SO-{uuid.uuid4().hex[:8]}"

    first = await links.claim(linked, "CUST-A")
    again = await links.claim(linked, "CUST-B")
    gone = await links.release(tombstone)
    late = await links.claim(tombstone, "CUST-A")

    assert (first["customer_id"], again["customer_id"], is_released(again)) == ("CUST-A", "CUST-A", False)
    assert is_released(await links.release(linked)) and (await links.get(linked))["customer_id"] == "CUST-A"
    assert (gone["customer_id"], is_released(late), late["customer_id"]) == (None, True, None)
    assert await links.get("SO-nobody") is None
