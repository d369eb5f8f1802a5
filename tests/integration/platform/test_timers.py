"""Durable timers against the real RabbitMQ and the real store server: each fires exactly once.

"Nothing else fired" is only asserted after a barrier: a timer scheduled later, and due later, has
fired, so the scanner has passed over the earlier ones. On the embedded store a timer fires up to
about a second late (shared/timers.py); the waits allow for it and never sleep a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from pymongo import AsyncMongoClient

from devstack.processes import Proc, free_port, wait_ready
from shared.bus import Bus
from shared.contracts import DeadlinePassed
from shared.envelope import utcnow
from shared.settings import ServiceSettings
from shared.timers import TIMERS_COLLECTION, Timers, timer_message_id
from tests.support.probe import BusProbe
from tests.support.timer_app import start_timer_app
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration

RETRY_DELAYS_MS = [100, 300]


class TimerSettings(ServiceSettings):
    # DeadlinePassed goes to intake, and a timer's message to the service that scheduled it.
    service_name: ClassVar[str] = DeadlinePassed.SERVICE


@pytest.fixture
async def settings(amqp_url: str, mongo_url: str) -> AsyncIterator[TimerSettings]:
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = TimerSettings(amqp_url=amqp_url, mongo_url=mongo_url, bus_prefix=prefix, db_prefix=prefix,
                             retry_delays_ms=RETRY_DELAYS_MS, timer_interval_s=0.1)  # fmt: skip
    yield settings
    await delete_topology(amqp_url, prefix, [TimerSettings.service_name], RETRY_DELAYS_MS)


@pytest.fixture
async def collection(settings: TimerSettings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    yield client[settings.db_name][TIMERS_COLLECTION]
    await client.close()


@pytest.fixture
async def scanner(settings: TimerSettings) -> AsyncIterator[Callable[[], Awaitable[Timers]]]:
    """``await scanner()`` is one replica's Timers: its own broker connection and store client."""
    made: list[tuple[Timers, AsyncMongoClient[dict[str, Any]]]] = []

    async def make() -> Timers:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
        bus = Bus(settings)
        await bus.connect()
        timers = Timers(bus, client[settings.db_name][TIMERS_COLLECTION], settings)
        await timers.create_indexes()
        made.append((timers, client))
        return timers

    yield make
    for timers, client in made:
        await timers.stop()
        await timers.bus.close()
        await client.close()


def deadline(due_in_s: float, timer: str = "confirmation") -> tuple[str, datetime, DeadlinePassed]:
    """A key, due time and message for a fresh order's deadline."""
    order_id = f"SO-{uuid.uuid4().hex[:8]}"
    due_at = utcnow() + timedelta(seconds=due_in_s)
    return (
        f"{order_id}:{timer}",
        due_at,
        DeadlinePassed(order_id=order_id, timer=timer, due_at=due_at.isoformat()),
    )


async def until(check: Callable[[], Awaitable[Any]], what: str, within: float = 15) -> Any:
    """Poll ``check`` until it is truthy; fail naming what was awaited."""
    deadline_at = asyncio.get_running_loop().time() + within
    while not (value := await check()):
        if asyncio.get_running_loop().time() > deadline_at:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


async def fire_barrier(timers: Timers, probe: BusProbe) -> None:
    """Schedule a timer due after everything before it and wait until it fired."""
    key, due_at, message = deadline(0.3, "barrier")
    await timers.schedule(key, due_at, message)
    await probe.wait_for("DeadlinePassed", message.order_id)


async def test_a_timer_fires_once_when_due_and_its_message_arrives_on_the_bus(
    settings, collection, probe_for, scanner
):
    probe = await probe_for(settings.bus_prefix)
    timers = await scanner()
    key, due_at, message = deadline(0.5)

    scheduled = await timers.schedule(key, due_at, message)
    timers.start()
    [fired] = await probe.wait_for("DeadlinePassed", message.order_id)

    assert utcnow() >= due_at, "fired before it was due"
    assert fired.message_id == scheduled.envelope.message_id == timer_message_id("intake", key)
    assert fired.payload == {
        "order_id": message.order_id,
        "timer": "confirmation",
        "due_at": due_at.isoformat(),
    }
    assert fired.producer == "intake" and fired.correlation_id == message.order_id
    stored = await collection.find_one({"_id": key})
    assert stored["state"] == "fired" and stored["fired_at"] is not None and stored["attempts"] == 1
    await fire_barrier(timers, probe)
    assert len(probe.matching("DeadlinePassed", message.order_id)) == 1


async def test_scheduling_the_same_key_twice_fires_once(settings, collection, probe_for, scanner):
    probe = await probe_for(settings.bus_prefix)
    one, twin = await scanner(), await scanner()
    key, due_at, message = deadline(0.5)
    later = DeadlinePassed(order_id=message.order_id, timer="confirmation", due_at="later")

    first, racing, again = await asyncio.gather(
        one.schedule(key, due_at, message),
        twin.schedule(key, due_at, message),
        one.schedule(key, due_at + timedelta(hours=1), later),
    )
    one.start()
    twin.start()
    await probe.wait_for("DeadlinePassed", message.order_id)
    await fire_barrier(one, probe)

    assert first.envelope.message_id == racing.envelope.message_id == again.envelope.message_id
    [kept] = {first.due_at, racing.due_at, again.due_at}  # the first one's, as BSON keeps it (ms)
    assert abs(kept - due_at) < timedelta(milliseconds=1)
    assert await collection.count_documents({"_id": key}) == 1
    [fired] = probe.matching("DeadlinePassed", message.order_id)
    assert fired.payload["due_at"] == due_at.isoformat()


async def test_a_cancelled_timer_never_fires(settings, collection, probe_for, scanner):
    probe = await probe_for(settings.bus_prefix)
    timers = await scanner()
    key, due_at, message = deadline(0.2)
    later_key, later_due, later_message = deadline(0.6)

    await timers.schedule(key, due_at, message)
    cancelled = await timers.cancel(key)
    await timers.schedule(later_key, later_due, later_message)
    timers.start()
    await probe.wait_for("DeadlinePassed", later_message.order_id)

    assert cancelled is True
    assert probe.matching("DeadlinePassed", message.order_id) == []
    assert (await collection.find_one({"_id": key}))["state"] == "cancelled"
    assert await timers.cancel(key) is True, "cancelling twice is harmless"
    assert await timers.cancel(later_key) is False, "a fired timer cannot be cancelled"
    assert (await collection.find_one({"_id": later_key}))["state"] == "fired"


async def test_two_scanners_fire_each_of_twenty_timers_exactly_once(settings, collection, probe_for, scanner):
    probe = await probe_for(settings.bus_prefix)
    replicas = [await scanner(), await scanner()]
    timers = [deadline(0.5) for _ in range(20)]
    orders = {message.order_id for _, _, message in timers}

    for n, (key, due_at, message) in enumerate(timers):
        await replicas[n % 2].schedule(key, due_at, message)
    for replica in replicas:
        replica.start()
    await probe.wait_for("DeadlinePassed", count=20, where=lambda e: e.correlation_id in orders)
    await until(lambda: _all_fired(collection, [key for key, _, _ in timers]), "every timer marked fired")
    await fire_barrier(replicas[0], probe)

    published = Counter(
        e.correlation_id for e in probe.matching("DeadlinePassed") if e.correlation_id in orders
    )
    assert published == {order_id: 1 for order_id in orders}
    attempts = [doc["attempts"] async for doc in collection.find({"_id": {"$in": [k for k, _, _ in timers]}})]
    assert attempts == [1] * 20, "no timer was claimed twice"


async def _all_fired(collection: Any, keys: list[str]) -> bool:
    return await collection.count_documents({"_id": {"$in": keys}, "state": "fired"}) == len(keys)


async def test_a_timer_whose_claimer_died_is_fired_once_by_another_scanner_after_the_lease(
    settings, collection, probe_for, scanner
):
    probe = await probe_for(settings.bus_prefix)
    timers = await scanner()
    key, due_at, message = deadline(-2)
    await timers.schedule(key, due_at, message)
    # A scanner claimed it and died before publishing: its lease has run out.
    lease_over = utcnow() - timedelta(seconds=2)
    await collection.update_one(
        {"_id": key},
        {"$set": {"state": "firing", "claim": "dead", "lease_until": lease_over}, "$inc": {"attempts": 1}},
    )

    timers.start()
    await probe.wait_for("DeadlinePassed", message.order_id)
    await fire_barrier(timers, probe)

    assert len(probe.matching("DeadlinePassed", message.order_id)) == 1
    stored = await collection.find_one({"_id": key})
    assert stored["state"] == "fired" and stored["attempts"] == 2


async def test_a_timer_claimed_by_a_live_scanner_is_left_to_it(settings, collection, probe_for, scanner):
    probe = await probe_for(settings.bus_prefix)
    timers = await scanner()
    key, due_at, message = deadline(-2)
    await timers.schedule(key, due_at, message)
    lease = utcnow() + timedelta(seconds=60)
    await collection.update_one(
        {"_id": key}, {"$set": {"state": "firing", "claim": "alive", "lease_until": lease}}
    )

    timers.start()
    await fire_barrier(timers, probe)

    assert probe.matching("DeadlinePassed", message.order_id) == []
    assert (await collection.find_one({"_id": key}))["claim"] == "alive"


async def test_a_timer_whose_message_cannot_be_routed_yet_is_handed_back_and_fires_later(
    settings, collection, probe_for, scanner
):
    timers = await scanner()  # nothing is bound for cmd.intake.DeadlinePassed under this prefix yet
    key, due_at, message = deadline(-2)
    await timers.schedule(key, due_at, message)

    assert await timers.fire_due() == 0
    handed_back = await collection.find_one({"_id": key})
    probe = await probe_for(settings.bus_prefix)  # binds "#": now the command has a queue
    fired = await timers.fire_due()

    assert handed_back["state"] == "pending" and handed_back["attempts"] == 1
    assert fired == 1
    assert len(await probe.wait_for("DeadlinePassed", message.order_id)) == 1
    assert (await collection.find_one({"_id": key}))["state"] == "fired"


# --- a real process killed between scheduling and due time -------------------------------------


def _log(proc: Proc) -> list[dict[str, Any]]:
    return [
        json.loads(raw)
        for raw in proc.log_path.read_text(errors="replace").splitlines()
        if raw.startswith("{")
    ]


async def _start(env: dict[str, str], log_dir: Path) -> Proc:
    proc = start_timer_app(free_port(), env, log_dir)
    await asyncio.to_thread(wait_ready, proc)
    return proc


async def _schedule(proc: Proc, order_id: str, delay_s: float) -> datetime:
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as http:
        response = await http.post(
            "/timers", json={"order_id": order_id, "timer": "confirmation", "delay_s": delay_s}
        )
    assert response.status_code == 201, response.text
    return datetime.fromisoformat(response.json()["due_at"])


async def test_a_timer_due_while_its_service_was_killed_fires_once_after_the_restart(
    settings, collection, probe_for, work_dir
):
    probe = await probe_for(settings.bus_prefix)
    env = {"AMQP_URL": settings.amqp_url, "MONGO_URL": settings.mongo_url, "BUS_PREFIX": settings.bus_prefix,
           "DB_PREFIX": settings.db_prefix, "RETRY_DELAYS_MS": ",".join(map(str, RETRY_DELAYS_MS)),
           "TIMER_INTERVAL_S": "0.2", "LOG_LEVEL": "INFO", "SHUTDOWN_GRACE_S": "5"}  # fmt: skip
    log_dir = work_dir / "logs" / settings.bus_prefix
    order_id, barrier_id = f"SO-{uuid.uuid4().hex[:8]}", f"SO-{uuid.uuid4().hex[:8]}"
    key = f"{order_id}:confirmation"
    proc = await _start(env, log_dir)
    try:
        due_at = await _schedule(proc, order_id, delay_s=3)
        proc.kill()
        assert utcnow() < due_at, "the process must die before the timer is due"

        # Dead past the due time (by the clock): a live scanner would have fired it by now.
        await until(lambda: _past(due_at + timedelta(seconds=1.5)), "the due time to pass")
        assert probe.matching("DeadlinePassed", order_id) == []
        assert (await collection.find_one({"_id": key}))["state"] == "pending"

        proc = await _start(env, log_dir)
        [fired] = await probe.wait_for("DeadlinePassed", order_id, within=20)
        # Barrier: a timer scheduled after the restart and due later has fired too.
        await _schedule(proc, barrier_id, delay_s=0.5)
        await probe.wait_for("DeadlinePassed", barrier_id, within=20)
        handled = await until(
            lambda: _lines(proc, "deadline handled", f"{barrier_id}:confirmation"),
            "the barrier to be handled",
        )

        assert len(probe.matching("DeadlinePassed", order_id)) == 1
        assert fired.message_id == timer_message_id("intake", key)
        stored = await collection.find_one({"_id": key})
        assert stored["state"] == "fired" and stored["attempts"] == 1
        assert len(await _lines(proc, "deadline handled", key)) == 1, handled
        [line] = await _lines(proc, "timer fired", key)
        assert line["order_id"] == order_id and line["late_ms"] >= 1500
    finally:
        proc.stop()


async def _past(moment: datetime) -> bool:
    return utcnow() > moment


async def _lines(proc: Proc, msg: str, key: str) -> list[dict[str, Any]]:
    return [line for line in _log(proc) if line.get("msg") == msg and line.get("key") == key]
