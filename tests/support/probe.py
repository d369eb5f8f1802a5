"""A test's own window on the bus: sees every message of a stack and can inject any."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.bus import Names
from shared.bus.access import url_user
from shared.contracts import Message
from shared.envelope import Envelope, new_envelope


class BusProbe:
    """Binds an exclusive queue to ``#`` on the stack's exchange and records every envelope.

    It connects as the operator (``AMQP_URL``, guest locally) and names that user in ``user_id``
    like every publisher: services trust the operator accounts of BUS_TRUSTED_SENDERS (issue 7)."""

    def __init__(self, amqp_url: str, prefix: str) -> None:
        self.amqp_url, self.prefix = amqp_url, prefix
        self.user = url_user(amqp_url)
        self.seen: list[Envelope] = []
        self._changed = asyncio.Event()
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None

    async def start(self) -> BusProbe:
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self.exchange = await self._channel.declare_exchange(
            f"{self.prefix}.bus", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await self._channel.declare_queue(f"probe-{uuid.uuid4().hex[:8]}", exclusive=True)
        await queue.bind(self.exchange, routing_key="#")
        await queue.consume(self._on_message, no_ack=True)
        return self

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            self.seen.append(Envelope.model_validate_json(message.body))
        except ValueError:
            return
        self._changed.set()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def publish(
        self,
        message: Message,
        *,
        producer: str = "probe",
        causation: Envelope | None = None,
        envelope: Envelope | None = None,
    ) -> Envelope:
        """Publish ``message`` (or a prepared envelope, e.g. to send a duplicate) like a service would."""
        env = envelope or new_envelope(message, producer=producer, causation=causation)
        await self.exchange.publish(
            aio_pika.Message(
                env.model_dump_json().encode(),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type="application/json",
                message_id=env.message_id,
                user_id=self.user,
            ),
            routing_key=env.routing_key,
        )
        return env

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        await self.exchange.publish(aio_pika.Message(body, user_id=self.user), routing_key=routing_key)

    def matching(
        self, type_name: str, order_id: str | None = None, where: Callable[[Envelope], bool] | None = None
    ) -> list[Envelope]:
        return [
            e
            for e in self.seen
            if e.type == type_name
            and (order_id is None or e.correlation_id == order_id)
            and (where is None or where(e))
        ]

    async def wait_for(
        self,
        type_name: str,
        order_id: str | None = None,
        *,
        count: int = 1,
        where: Callable[[Envelope], bool] | None = None,
        within: float = 20,
    ) -> list[Envelope]:
        """Wait until ``count`` matching messages were seen; fail with what was seen instead."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            found = self.matching(type_name, order_id, where)
            if len(found) >= count:
                return found
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [(e.type, e.correlation_id) for e in self.seen if order_id in (None, e.correlation_id)]
                raise AssertionError(f"expected {count} x {type_name} for {order_id}; saw {seen[-30:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    async def parked(self, service: str) -> list[tuple[bytes, dict[str, object]]]:
        """Drain (and return) what the service parked: body and headers (x-error ...)."""
        assert self._channel is not None
        queue = await self._channel.get_queue(Names(self.prefix, service).parked, ensure=False)
        out = []
        while (msg := await queue.get(fail=False, no_ack=True)) is not None:
            out.append((msg.body, dict(msg.headers or {})))
        return out
