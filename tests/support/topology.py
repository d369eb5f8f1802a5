"""Remove a test run's queues and exchanges: every stack has its own prefix, and quorum
queues left behind by thousands of runs would weigh the broker down (each is a Raft group)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

import aio_pika

from shared.bus import Names


async def delete_topology(
    amqp_url: str, prefix: str, services: Iterable[str], retry_delays_ms: Iterable[int]
) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for service in services:
            names = Names(prefix, service)
            for queue in (names.queue, names.parked, *(names.retry(d) for d in retry_delays_ms)):
                await channel.queue_delete(queue)
        await channel.exchange_delete(f"{prefix}.bus")
        await channel.exchange_delete(f"{prefix}.dlx")
    finally:
        await connection.close()


def delete_topology_sync(
    amqp_url: str, prefix: str, services: Iterable[str], retry_delays_ms: Iterable[int]
) -> None:
    """For synchronous teardown code, which may run while an event loop exists in this thread."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(delete_topology(amqp_url, prefix, list(services), list(retry_delays_ms)))
        except BaseException as exc:  # reported below; cleanup must not hide a test's own failure
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    if errors:
        print(f"warning: could not delete test topology {prefix}: {errors[0]!r}")
