"""The aftersales stores on the real store server: optimistic writes and the outbox riding along."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.aftersales.adapters import MongoRefundLedgerStore, MongoReturnStore
from services.aftersales.settings import Settings
from shared.contracts import ReturnRejected
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.unit.aftersales.builders import AT, a_return, an_order

pytestmark = pytest.mark.integration


class FailingBus:
    """A broker that is down: nothing can be published, so staged messages must stay staged."""

    async def publish(self, envelope: Envelope) -> None:
        raise ConnectionError("broker down")


@pytest.fixture
async def db(mongo_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"aftersales_{uuid.uuid4().hex[:8]}"]
    await client.close()


def rejected(ret) -> Envelope:  # type: ignore[no-untyped-def]
    message = ReturnRejected(order_id=ret.order_id, return_id=ret.return_id, reason="test")
    return new_envelope(message, producer="aftersales")


async def test_a_return_round_trips_with_its_history_and_inspection(db):
    store = MongoReturnStore(db["returns"], db["counters"], Outbox(FailingBus(), Settings()))  # type: ignore[arg-type]
    ret = a_return(an_order(), reason="box arrived broken", **{"SKU-A": 2})
    ret.inspect("pass", by="qc-li", at=AT, note="fine")

    await store.insert(ret, [])
    loaded = await store.load(ret.return_id)

    assert loaded is not None
    assert loaded.aggregate.history == ret.history
    assert (loaded.aggregate.inspection, loaded.aggregate.lines, loaded.aggregate.status) == (
        ret.inspection,
        ret.lines,
        ret.status,
    )
    assert loaded.aggregate.ordered_units == {"SKU-A": 2, "SKU-B": 1}


async def test_messages_not_yet_published_survive_the_next_write_of_the_return(db):
    store = MongoReturnStore(db["returns"], db["counters"], Outbox(FailingBus(), Settings()))  # type: ignore[arg-type]
    ret = a_return(an_order())
    first, second = rejected(ret), rejected(ret)

    loaded = await store.insert(ret, [first])
    await store.save(loaded, [second])

    stored = await db["returns"].find_one({"_id": ret.return_id})
    assert set(stored["outbox"]) == {first.message_id, second.message_id}
    assert stored["outbox_at"] is not None


async def test_a_stale_write_of_a_return_is_refused(db):
    store = MongoReturnStore(db["returns"], db["counters"], Outbox(FailingBus(), Settings()))  # type: ignore[arg-type]
    ret = a_return(an_order())
    await store.insert(ret, [])
    one, two = await store.load(ret.return_id), await store.load(ret.return_id)
    assert one is not None and two is not None

    await store.save(one, [])

    with pytest.raises(ConcurrencyError):
        await store.save(two, [])


async def test_two_returns_of_one_order_settle_their_refunds_one_after_the_other(db):
    ledgers = MongoRefundLedgerStore(db["refund_ledgers"])
    order = an_order(total=28_800, **{"SKU-A": 2, "SKU-B": 1})
    first, last = a_return(order, **{"SKU-A": 2}), a_return(order, seq=2, **{"SKU-B": 1})
    loaded_mine, loaded_theirs = await ledgers.load(order.order_id), await ledgers.load(order.order_id)
    mine, theirs = loaded_mine.aggregate, loaded_theirs.aggregate

    mine.settle(first.return_id, first.lines, order_total=order.total, ordered_units=first.ordered_units)
    await ledgers.save(loaded_mine, [])
    theirs.settle(last.return_id, last.lines, order_total=order.total, ordered_units=last.ordered_units)
    with pytest.raises(ConcurrencyError):
        await ledgers.save(loaded_theirs, [])  # decided without knowing the first refund: must decide again
    fresh = await ledgers.load(order.order_id)
    total = fresh.aggregate.settle(
        last.return_id, last.lines, order_total=order.total, ordered_units=last.ordered_units
    )
    await ledgers.save(fresh, [])

    assert total == 8_800
    assert (await ledgers.load(order.order_id)).aggregate.refunded() == 28_800


async def test_return_numbers_count_up_per_month(db):
    store = MongoReturnStore(db["returns"], db["counters"], Outbox(FailingBus(), Settings()))  # type: ignore[arg-type]

    numbers = [await store.next_return_id(AT) for _ in range(3)]

    assert numbers == ["RT202405001", "RT202405002", "RT202405003"]
