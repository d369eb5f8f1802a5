"""Billing's customer store answers ``load_cached`` from its own last write (issue 6 §4): one read
less per credit check, and a copy another replica made stale never loses an update or a reply."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import MongoCustomerStore
from services.billing.domain import Customer
from services.billing.settings import Settings
from shared.aggregates import change
from shared.outbox import Outbox
from tests.support.fakes import FakeBus

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(mongo_url: str) -> AsyncIterator[tuple[MongoCustomerStore, MongoCustomerStore]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"c{uuid.uuid4().hex[:8]}_billing"]["customers"]
    outbox = Outbox(FakeBus(), Settings())  # type: ignore[arg-type]
    yield MongoCustomerStore(collection, outbox), MongoCustomerStore(collection, outbox)
    await client.close()


def nothing(envelopes, loaded):  # type: ignore[no-untyped-def]
    return []


async def test_after_a_save_the_store_answers_from_its_own_last_write(replicas):
    a, _ = replicas
    await a.add(Customer("C-1", "Shanghai Lamp Co., Ltd.", "credit", 100_000))
    loaded = await a.load("C-1")
    loaded.aggregate.reserve("SO-1", 30_000)
    saved = await a.save(loaded, [])

    cached = await a.load_cached("C-1")

    assert cached is not None and cached.cached and cached.doc["version"] == saved.doc["version"]
    assert cached.aggregate.exposure == 30_000


async def test_a_write_decided_on_a_stale_copy_is_decided_again_on_the_other_replicas_write(replicas):
    a, b = replicas
    await a.add(Customer("C-2", "Shanghai Lamp Co., Ltd.", "credit", 100_000))
    first = await a.load("C-2")
    first.aggregate.reserve("SO-1", 30_000)
    await a.save(first, [])  # a remembers this write
    other = await b.load("C-2")
    other.aggregate.reserve("SO-2", 50_000)
    await b.save(other, [])  # ... which another replica's write made stale

    def reserve_third(customer: Customer) -> list:
        customer.reserve("SO-3", 10_000)
        return []

    result = await change(a, "C-2", reserve_third, envelopes=nothing, attempts=3)

    assert result.written and set(result.loaded.aggregate.orders) == {"SO-1", "SO-2", "SO-3"}
    assert (await b.load("C-2")).aggregate.exposure == 90_000  # nothing of b's write was lost


async def test_a_decision_to_do_nothing_on_a_stale_copy_is_checked_on_a_fresh_read(replicas):
    a, b = replicas
    await a.add(Customer("C-3", "Shanghai Lamp Co., Ltd.", "credit", 100_000))
    first = await a.load("C-3")
    first.aggregate.reserve("SO-1", 30_000)
    await a.save(first, [])
    other = await b.load("C-3")
    other.aggregate.reserve("SO-9", 20_000)  # only b knows SO-9 is held
    await b.save(other, [])

    def release_nine(customer: Customer) -> list:
        if customer.release_changes("SO-9") and "SO-9" in customer.orders:
            customer.release("SO-9")
        return []

    result = await change(a, "C-3", release_nine, envelopes=nothing, attempts=3)

    assert result.written  # a's stale copy knew no SO-9 and would have done nothing
    assert (await b.load("C-3")).aggregate.exposure == 30_000
