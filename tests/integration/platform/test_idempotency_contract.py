"""The one Idempotency-Key contract (shared.idempotency), on the real store and in memory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from shared.idempotency import Claim, MongoIdempotencyKeys
from tests.support.fakes import FakeIdempotencyKeys

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def keys(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeIdempotencyKeys()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield MongoIdempotencyKeys(client[f"k{uuid.uuid4().hex[:8]}_platform"]["idempotency_keys"])
    await client.close()


async def test_of_two_racing_claims_of_one_key_one_wins_and_both_see_the_winner(keys):
    first, second = await asyncio.gather(
        keys.claim("k-1", "body-a", "SO1"), keys.claim("k-1", "body-b", "SO2")
    )

    assert first == second and first.target in ("SO1", "SO2")
    assert await keys.get("k-1") == first
    assert await keys.get("k-2") is None


async def test_a_claim_is_never_changed_by_a_later_request(keys):
    await keys.claim("k-3", "body-a", "RT1")

    again = await keys.claim("k-3", "body-b", "RT2")

    assert again == Claim("k-3", "body-a", "RT1")


async def test_claims_stored_before_the_contract_are_read_with_their_old_field_names(mongo_url: str):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    collection = client[f"k{uuid.uuid4().hex[:8]}_platform"]["idempotency_keys"]
    await collection.insert_one({"_id": "old-order", "body_hash": "h1", "order_id": "SO202611001"})
    await collection.insert_one({"_id": "old-return", "fingerprint": "h2", "return_id": "RT202611001"})
    keys = MongoIdempotencyKeys(collection)

    assert await keys.get("old-order") == Claim("old-order", "h1", "SO202611001")
    assert await keys.get("old-return") == Claim("old-return", "h2", "RT202611001")
    await client.close()
