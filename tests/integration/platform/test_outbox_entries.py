"""The outbox rule of issue 10 against the real store: a writer publishes only what its own write
staged, entries are cleared by id, and nothing published is ever published again because some
later, unrelated write of the same document happened. The bus is a recorder: what is under test
is which envelopes the outbox hands to it, and how often."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from pymongo import AsyncMongoClient

from shared.contracts import StockReleased
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from shared.store import insert_doc, replace_doc, stage

pytestmark = pytest.mark.integration


class OutboxSettings(ServiceSettings):
    service_name: ClassVar[str] = "outboxtest"


class RecordingBus:
    """Stands in for shared.bus.Bus: records every envelope handed to ``publish``."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.failing = False

    async def publish(self, envelope: Envelope) -> None:
        if self.failing:
            raise ConnectionError("broker gone")
        self.published.append(envelope.message_id)


@pytest.fixture
async def collection(mongo_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"o{uuid.uuid4().hex[:8]}_outboxtest"]["things"]
    await client.close()


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def outbox(bus: RecordingBus, collection: Any) -> Outbox:
    # A negative grace makes every pass see every staged document at once: the embedded store compares
    # a datetime operand to the second (docs/STORE-NOTES.md), so a grace of 0 would miss fresh ones.
    settings = OutboxSettings(relay_grace_s=-5.0)
    box = Outbox(bus, settings)  # type: ignore[arg-type]
    box.watch(collection)
    return box


def message(order_id: str = "SO-1") -> Envelope:
    return new_envelope(StockReleased(order_id=order_id, lines=[]), producer="outboxtest")


async def test_a_later_write_of_the_document_never_publishes_an_earlier_message_again(
    collection, outbox, bus
):
    first, second, third = message(), message(), message()
    doc = await insert_doc(collection, stage({"_id": "a", "n": 0}, [first]))
    await outbox.flush(collection, doc)

    for n, envelope in enumerate((second, third), start=1):
        loaded = await collection.find_one({"_id": "a"})
        saved = await replace_doc(collection, stage({**loaded, "n": n}, [envelope]))
        await outbox.flush(collection, saved)
    await outbox.relay_once()

    assert bus.published == [first.message_id, second.message_id, third.message_id]
    stored = await collection.find_one({"_id": "a"})
    assert stored["outbox"] == {} and stored["outbox_at"] is None and stored["n"] == 2


async def test_a_writer_that_read_before_the_clear_loses_its_race_instead_of_restoring_the_entry(
    collection, outbox, bus
):
    first = message()
    doc = await insert_doc(collection, stage({"_id": "b"}, [first]))
    stale = await collection.find_one({"_id": "b"})  # read while `first` is still staged
    await outbox.flush(collection, doc)

    with pytest.raises(ConcurrencyError):
        await replace_doc(collection, stage({**stale, "n": 1}, []))

    assert first.message_id not in (await collection.find_one({"_id": "b"}))["outbox"]
    assert await outbox.relay_once() == 0
    assert bus.published == [first.message_id]


async def test_two_racing_writers_each_publish_their_own_message_once(collection, outbox, bus):
    mine, theirs = message(), message()
    written_by_a = await insert_doc(collection, stage({"_id": "c"}, [mine]))
    # B read the document before A flushed, and wrote its own change on top of it.
    written_by_b = await replace_doc(collection, stage({**written_by_a, "n": 1}, [theirs]))

    await outbox.flush(collection, written_by_a)  # A's conditional clear fails: it clears by id
    await outbox.flush(collection, written_by_b)  # B publishes only its own message
    await outbox.relay_once()  # finds nothing left to publish, and stops looking here

    assert Counter(bus.published) == {mine.message_id: 1, theirs.message_id: 1}
    stored = await collection.find_one({"_id": "c"})
    assert stored["outbox"] == {} and stored["outbox_at"] is None
    assert await collection.count_documents({"outbox_at": {"$ne": None}}) == 0


async def test_left_overs_of_a_crashed_writer_go_out_once_through_the_relay_not_with_the_next_write(
    collection, outbox, bus
):
    left_over, next_one = message(), message()
    await insert_doc(collection, stage({"_id": "d"}, [left_over]))  # written, then the writer died
    loaded = await collection.find_one({"_id": "d"})
    saved = await replace_doc(collection, stage({**loaded, "n": 1}, [next_one]))

    await outbox.flush(collection, saved)
    assert bus.published == [next_one.message_id]  # the writer sends its own message only

    await outbox.relay_once()
    await outbox.relay_once()
    assert bus.published == [next_one.message_id, left_over.message_id]
    assert (await collection.find_one({"_id": "d"}))["outbox"] == {}


async def test_a_crash_between_publish_and_clear_repeats_the_message_once_never_in_a_loop(
    collection, outbox, bus
):
    envelope = message()
    await insert_doc(collection, stage({"_id": "e"}, [envelope]))
    await bus.publish(envelope)  # published, then the process died before clearing the entry

    for _ in range(3):
        await outbox.relay_once()

    assert bus.published == [envelope.message_id, envelope.message_id]


async def test_what_cannot_be_published_stays_staged_for_the_relay(collection, outbox, bus):
    envelope = message()
    doc = await insert_doc(collection, stage({"_id": "f"}, [envelope]))
    bus.failing = True

    assert await outbox.flush(collection, doc) is False
    assert envelope.message_id in (await collection.find_one({"_id": "f"}))["outbox"]

    bus.failing = False
    assert await outbox.relay_once() == 1
    assert bus.published == [envelope.message_id]


async def test_an_entry_written_before_entries_were_tagged_is_still_published_by_the_relay(
    collection, outbox, bus
):
    envelope = message()
    legacy = {"_id": "g", "version": 3, "outbox": {envelope.message_id: envelope.model_dump(mode="json")}}
    await collection.insert_one({**legacy, "outbox_at": envelope.occurred_at})

    assert await outbox.flush(collection, legacy)  # not staged by this version: not the writer's
    assert bus.published == []
    assert await outbox.relay_once() == 1
    assert bus.published == [envelope.message_id]


async def test_a_deferred_flush_without_a_clearer_running_clears_at_once_without_a_version_bump(
    collection, outbox, bus
):
    envelope = message()
    doc = await insert_doc(collection, stage({"_id": "h"}, [envelope]))

    assert await outbox.flush_deferred(collection, doc)

    stored = await collection.find_one({"_id": "h"})
    assert bus.published == [envelope.message_id]
    assert (stored["outbox"], stored["outbox_at"], stored["version"]) == ({}, None, 1)


async def test_a_save_that_leaves_out_what_was_published_needs_no_clear_of_its_own(collection, bus):
    # A clearer that runs rarely, so the batch is still waiting when the next save comes (issue 6 §4).
    box = Outbox(bus, OutboxSettings(relay_grace_s=-5.0, outbox_clear_interval_s=3600))  # type: ignore[arg-type]
    box.watch(collection)
    box.start(relay=False)  # the relay's own passes would race this test's writes; it is called below
    first, second = message(), message()
    doc = await insert_doc(collection, stage({"_id": "i"}, [first]))
    await box.flush_deferred(collection, doc)
    assert first.message_id in (await collection.find_one({"_id": "i"}))["outbox"]  # clear still waiting

    loaded = await collection.find_one({"_id": "i"})
    published = box.recently_published(loaded["outbox"])
    kept = {mid: e for mid, e in loaded["outbox"].items() if mid not in published}
    saved = await replace_doc(collection, stage({**loaded, "outbox": kept, "n": 1}, [second]))
    box.forget(collection, "i", published)
    await box.flush_deferred(collection, saved)
    assert await box.relay_once() == 0  # what waits for the batch is not the relay's
    await box.stop()  # the last batch goes out on stop

    stored = await collection.find_one({"_id": "i"})
    assert bus.published == [first.message_id, second.message_id]
    assert (stored["outbox"], stored["outbox_at"], stored["n"]) == ({}, None, 1)
    assert stored["version"] == 2  # two writes of the document's own, no clear bumped it
