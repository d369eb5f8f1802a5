"""The platform's delivery guarantees, against the real RabbitMQ and the real store server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from pymongo import AsyncMongoClient

from shared.bus import Bus
from shared.contracts import CommitStock, ReleaseStock, StockReleased
from shared.envelope import Envelope, new_envelope
from shared.errors import PermanentError
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from shared.store import insert_doc, stage
from tests.support.barriers import eventually, parked_until, synced
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration


class PlatformSettings(ServiceSettings):
    service_name: ClassVar[str] = "platformtest"


@pytest.fixture
async def settings(amqp_url: str, mongo_url: str) -> AsyncIterator[PlatformSettings]:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = PlatformSettings(amqp_url=amqp_url, mongo_url=mongo_url, bus_prefix=prefix, db_prefix=prefix,
                            retry_delays_ms=[50, 100], max_attempts=3, relay_grace_s=0.2,
                            relay_interval_s=0.1)  # fmt: skip
    yield settings
    await delete_topology(amqp_url, prefix, ["platformtest"], settings.retry_delays_ms)


@pytest.fixture
async def collection(settings: PlatformSettings) -> AsyncIterator[object]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    yield client[settings.db_name]["things"]
    await client.close()


async def _bus(settings: PlatformSettings, handlers: dict[type, object]) -> Bus:
    bus = Bus(settings)
    for message_type, handler in handlers.items():
        bus.subscribe(message_type, handler)  # type: ignore[arg-type]
    await bus.connect()
    await bus.start_consuming()
    return bus


async def test_a_staged_message_is_published_right_after_the_write_and_cleared(
    settings, collection, probe_for
):
    probe = await probe_for(settings.bus_prefix)
    bus = await _bus(settings, {})
    outbox = Outbox(bus, settings)
    env = new_envelope(StockReleased(order_id="SO-1", lines=[]), producer="platformtest")

    doc = await insert_doc(collection, stage({"_id": "a"}, [env]))
    await outbox.flush(collection, doc)

    assert (await probe.wait_for("StockReleased", "SO-1"))[0].message_id == env.message_id
    stored = await collection.find_one({"_id": "a"})
    assert stored["outbox"] == {} and stored["outbox_at"] is None
    await bus.close()


async def test_the_relay_publishes_what_a_crash_left_in_the_outbox(settings, collection, probe_for):
    probe = await probe_for(settings.bus_prefix)
    bus = await _bus(settings, {})
    outbox = Outbox(bus, settings)
    outbox.watch(collection)
    env = new_envelope(StockReleased(order_id="SO-2", lines=[]), producer="platformtest")
    await insert_doc(collection, stage({"_id": "b"}, [env]))  # written, never flushed: the "crash"

    outbox.start()
    found = await probe.wait_for("StockReleased", "SO-2", within=10)
    await outbox.stop()

    assert [e.message_id for e in found] == [env.message_id]
    assert (await collection.find_one({"_id": "b"}))["outbox"] == {}
    await bus.close()


async def test_a_failing_handler_is_retried_with_back_off_until_it_succeeds(settings, probe_for):
    probe = await probe_for(settings.bus_prefix)
    calls: list[str] = []
    done = asyncio.Event()

    async def flaky(message: ReleaseStock, envelope: Envelope) -> None:
        calls.append(envelope.message_id)
        if len(calls) < 3:
            raise ConnectionError("store hiccup")
        done.set()

    bus = await _bus(settings.model_copy(update={"max_attempts": 5}), {ReleaseStock: flaky})
    env = await probe.publish(ReleaseStock(order_id="SO-3"))

    await asyncio.wait_for(done.wait(), 10)
    assert calls == [env.message_id] * 3
    assert await probe.parked("platformtest") == []
    await bus.close()


async def test_a_poison_message_is_parked_with_its_error_and_the_consumer_keeps_going(settings, probe_for):
    probe = await probe_for(settings.bus_prefix)
    handled: list[str] = []

    async def handler(message: ReleaseStock, envelope: Envelope) -> None:
        if message.order_id == "poison":
            raise ValueError("cannot ever work")
        handled.append(message.order_id)

    async def permanent(message: CommitStock, envelope: Envelope) -> None:
        raise PermanentError("broken invariant")

    bus = await _bus(settings, {ReleaseStock: handler, CommitStock: permanent})
    await probe.publish(ReleaseStock(order_id="poison"))
    await probe.publish(CommitStock(order_id="SO-4"))
    await probe.publish_raw("cmd.inventory.ReleaseStock", b"{not json")
    await probe.publish(ReleaseStock(order_id="SO-5"))

    # Barriers on the bus's own effects (no service process here): the handler's calls, the parking queue.
    await eventually(lambda: "SO-5" in handled, within=10, what="SO-5 handled behind the poison")
    parked = await parked_until(probe, "platformtest", 3)  # the poison one only after its retries

    assert handled == ["SO-5"]
    errors = sorted(str(headers["x-error"]) for _, headers in parked)
    assert len(parked) == 3, errors
    assert any("cannot ever work" in e for e in errors)
    assert any("broken invariant" in e for e in errors)
    assert any("malformed envelope" in e for e in errors)
    poison_headers = next(h for _, h in parked if "cannot ever work" in str(h["x-error"]))
    assert poison_headers["x-attempts"] == 3
    await bus.close()


async def test_a_parked_message_of_an_order_is_reported_to_intake_once_and_a_broken_body_is_not(
    settings, probe_for
):
    probe = await probe_for(settings.bus_prefix)

    async def permanent(message: CommitStock, envelope: Envelope) -> None:
        raise PermanentError("broken invariant")

    async def failing(message: ReleaseStock, envelope: Envelope) -> None:
        raise ValueError("cannot ever work")

    bus = await _bus(settings, {CommitStock: permanent, ReleaseStock: failing})
    refused = await probe.publish(CommitStock(order_id="SO-7"))
    tried = await probe.publish(ReleaseStock(order_id="SO-8"))
    await probe.publish_raw("cmd.inventory.ReleaseStock", b"{not json")  # names no order

    parked = await parked_until(probe, "platformtest", 3)
    await probe.wait_for("MessageParked", count=2)
    await synced(probe)

    reports = {e.correlation_id: e for e in probe.matching("MessageParked")}
    assert len(parked) == 3 and set(reports) == {"SO-7", "SO-8"}
    first, second = reports["SO-7"].payload, reports["SO-8"].payload
    assert (first["message_id"], first["message_type"]) == (refused.message_id, "CommitStock")
    assert first["attempts"] == 1
    assert (second["message_id"], second["attempts"]) == (tried.message_id, 3)
    assert first["service"] == "platformtest" and "broken invariant" in first["error"]
    assert reports["SO-8"].routing_key == "cmd.intake.MessageParked"
    await bus.close()


async def test_a_report_that_cannot_be_published_does_not_keep_a_message_from_its_parking_queue(
    settings, probe_for
):
    probe = await probe_for(settings.bus_prefix)

    async def permanent(message: CommitStock, envelope: Envelope) -> None:
        raise PermanentError("broken invariant")

    bus = await _bus(settings, {CommitStock: permanent})
    publish = bus.publish

    async def broker_refuses_reports(envelope: Envelope) -> None:
        if envelope.type == "MessageParked":
            raise ConnectionError("refused")
        await publish(envelope)

    bus.publish = broker_refuses_reports  # type: ignore[method-assign]
    await probe.publish(CommitStock(order_id="SO-9"))
    await probe.publish(CommitStock(order_id="SO-10"))

    parked = await parked_until(probe, "platformtest", 2)  # both parked, acked, the consumer went on

    assert len(parked) == 2 and probe.matching("MessageParked") == []
    await bus.close()


async def test_a_command_with_no_queue_bound_is_refused_so_the_outbox_keeps_it(settings, collection):
    bus = await _bus(settings, {})  # nothing consumes cmd.billing.* under this fresh prefix
    outbox = Outbox(bus, settings)
    env = new_envelope(ReleaseStock(order_id="SO-6"), producer="platformtest")
    # ReleaseStock goes to inventory, whose queue does not exist under this prefix.
    doc = await insert_doc(collection, stage({"_id": "c"}, [env]))

    published = await outbox.flush(collection, doc)

    assert published is False
    assert env.message_id in (await collection.find_one({"_id": "c"}))["outbox"]
    await bus.close()
