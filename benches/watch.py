"""The benchmark's window on the bus: every message published on a stack's exchange, per order.

Lighter than ``tests.support.probe.BusProbe`` because it runs beside a measurement: it reads
the AMQP properties the services set on every message (``type``, ``correlation_id`` = the
order) and parses a body only for the few types the bench waits for. It counts the messages
published per order and their mean size, remembers when each (type, order) was first seen,
and lets the driver wait for one.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

# Types whose payload the bench needs (the carrier posts events to the shipment it names).
PAYLOAD_TYPES = frozenset({"ShipmentCreated", "InvoiceIssued"})


class Watch:
    def __init__(self, amqp_url: str, prefix: str) -> None:
        self.amqp_url, self.prefix = amqp_url, prefix
        self.published: Counter[str] = Counter()  # order id -> messages published for it
        self.by_type: Counter[str] = Counter()
        self.bytes = 0
        self.first_seen: dict[tuple[str, str], float] = {}  # (type, order) -> perf_counter
        self.payloads: dict[tuple[str, str], set[str]] = {}  # (type, order) -> distinct ids in payload
        self._waiting: dict[tuple[str, str], list[asyncio.Future[float]]] = {}
        self._connection: aio_pika.abc.AbstractConnection | None = None

    async def start(self) -> Watch:
        self._connection = await aio_pika.connect(self.amqp_url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            f"{self.prefix}.bus", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(f"bench-watch-{uuid.uuid4().hex[:8]}", exclusive=True)
        await queue.bind(exchange, routing_key="#")
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        order, type_ = message.correlation_id or "", message.type or ""
        self.published[order] += 1
        self.by_type[type_] += 1
        self.bytes += len(message.body)
        key = (type_, order)
        if type_ in PAYLOAD_TYPES:
            try:
                payload: dict[str, Any] = json.loads(message.body)["payload"]
            except (ValueError, KeyError, TypeError):
                payload = {}
            ident = payload.get("shipment_id") or payload.get("invoice_id")
            if isinstance(ident, str):
                self.payloads.setdefault(key, set()).add(ident)
        if key not in self.first_seen:
            self.first_seen[key] = time.perf_counter()
            for future in self._waiting.pop(key, []):
                if not future.done():
                    future.set_result(self.first_seen[key])

    def seen(self, type_: str, order_id: str) -> float | None:
        return self.first_seen.get((type_, order_id))

    def ids(self, type_: str, order_id: str) -> set[str]:
        """The distinct ids (shipment, invoice) the messages of ``type_`` for the order carried."""
        return self.payloads.get((type_, order_id), set())

    async def wait(self, type_: str, order_id: str, within_s: float) -> float:
        """When (perf_counter) the first ``type_`` for the order was seen; TimeoutError after ``within_s``."""
        key = (type_, order_id)
        if key in self.first_seen:
            return self.first_seen[key]
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        return await asyncio.wait_for(future, timeout=max(0.0, within_s))

    @property
    def mean_bytes(self) -> float:
        total = sum(self.by_type.values())
        return self.bytes / total if total else 0.0

    async def quiet(self, quiet_s: float, within_s: float) -> None:
        """Wait until nothing was published for ``quiet_s`` (at most ``within_s``)."""
        deadline = time.perf_counter() + within_s
        last, since = sum(self.by_type.values()), time.perf_counter()
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            now = sum(self.by_type.values())
            if now != last:
                last, since = now, time.perf_counter()
            elif time.perf_counter() - since >= quiet_s:
                return
