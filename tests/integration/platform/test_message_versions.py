"""A message of a version newer than its consumer understands (issue 9), on the real broker: it is
parked at once with an error naming both versions and reported for its order, its handler never
runs, nothing is retried, and the consumer goes on with the next message."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest

from shared.bus import Bus
from shared.contracts import ReleaseStock
from shared.envelope import Envelope, new_envelope
from shared.settings import ServiceSettings
from tests.support.barriers import eventually, handled, parked_logged, parked_until, synced
from tests.support.stack import Stack
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration


class VersionSettings(ServiceSettings):
    service_name: ClassVar[str] = "versiontest"


@pytest.fixture
async def settings(amqp_url: str, mongo_url: str) -> AsyncIterator[VersionSettings]:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = VersionSettings(amqp_url=amqp_url, mongo_url=mongo_url, bus_prefix=prefix, db_prefix=prefix,
                               retry_delays_ms=[50, 100], max_attempts=3)  # fmt: skip
    yield settings
    await delete_topology(amqp_url, prefix, ["versiontest"], settings.retry_delays_ms)


def of_version(message: ReleaseStock, version: int) -> Envelope:
    envelope = new_envelope(message, producer="intake")
    return Envelope.model_validate({**envelope.model_dump(), "version": version})


async def test_a_newer_version_is_parked_once_with_a_clear_error_and_reported(settings, probe_for):
    probe = await probe_for(settings.bus_prefix)
    calls: list[tuple[str, int]] = []

    async def release(message: ReleaseStock, envelope: Envelope) -> None:
        calls.append((message.order_id, envelope.version))

    bus = Bus(settings)
    bus.subscribe(ReleaseStock, release)
    await bus.connect()
    await bus.start_consuming()
    try:
        future = of_version(ReleaseStock(order_id="SO-V2"), ReleaseStock.VERSION + 1)
        await probe.publish(ReleaseStock(order_id="SO-V2"), envelope=future)
        await probe.publish(ReleaseStock(order_id="SO-V1"))

        await eventually(lambda: ("SO-V1", 1) in calls, within=10, what="the version-1 message handled")
        parked = await parked_until(probe, "versiontest", 1)
        report = (await probe.wait_for("MessageParked", "SO-V2"))[0].payload
        await synced(probe)
        parked += await probe.parked("versiontest")
    finally:
        await bus.close()

    assert calls == [("SO-V1", 1)]  # the newer one never reached its handler
    assert len(parked) == 1  # parked once, at once: no retry tier saw it
    body, headers = parked[0]
    assert Envelope.model_validate_json(body).message_id == future.message_id
    error = str(headers["x-error"])
    assert error.startswith(f"ReleaseStock version {future.version} is newer than this service understands")
    assert headers["x-attempts"] == 1
    assert (report["message_id"], report["message_type"], report["service"]) == (
        future.message_id, "ReleaseStock", "versiontest"
    )
    assert "is newer than this service understands" in report["error"]


async def test_a_service_parks_a_newer_version_logs_why_and_keeps_consuming(make_stack, probe_for):
    stack: Stack = make_stack("inventory")
    probe = await probe_for(stack)
    order_id = f"SO-{uuid.uuid4().hex[:8]}"
    future = of_version(ReleaseStock(order_id=order_id), ReleaseStock.VERSION + 1)

    await probe.publish(ReleaseStock(order_id=order_id), envelope=future)
    current = await probe.publish(ReleaseStock(order_id=f"{order_id}-next"))

    lines = await parked_logged(stack, "inventory", future)
    await handled(stack, "inventory", current)
    parked = await parked_until(probe, "inventory", 1)

    assert stack.procs["inventory"].alive()
    assert lines[0]["version"] == future.version and lines[0]["order_id"] == order_id
    assert "is newer than this service understands" in str(lines[0]["error"])
    assert [Envelope.model_validate_json(body).message_id for body, _ in parked] == [future.message_id]
    assert not any(line.get("msg", "").startswith("handler failed") for line in stack.log_lines("inventory"))
