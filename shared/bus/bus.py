"""One service's connection to RabbitMQ: publishing with confirms, and its consumer.

What happens to one delivery (handler, ack, retry, parking) is in delivery.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from shared.bus.access import SenderCheck, url_user
from shared.bus.delivery import ATTEMPTS_HEADER, Deliveries
from shared.bus.topology import Names, declare_exchange, declare_service_queues
from shared.contracts import Message
from shared.envelope import Envelope
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("shared.bus")

M = TypeVar("M", bound=Message)
Handler = Callable[[Any, Envelope], Awaitable[None]]
__all__ = ["ATTEMPTS_HEADER", "Bus", "Handler"]


class Bus:
    """One service's connection to RabbitMQ: a confirming publisher and its consumer."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.names = Names(settings.bus_prefix, settings.service_name)
        self._handlers: dict[str, Handler] = {}
        self._routing_keys: list[str] = []
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._queue: aio_pika.abc.AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        # Who this connection is (every publish names it in user_id) and whom the consumer believes.
        self.user = url_user(settings.amqp_url)
        self.senders = SenderCheck(settings, self.user)
        self._deliveries = Deliveries(self)

    def subscribe(self, message_type: type[M], handler: Callable[[M, Envelope], Awaitable[None]]) -> None:
        """Route ``message_type`` to ``handler``; its routing key is bound to this service's queue."""
        self._handlers[message_type.type_name()] = handler
        self._routing_keys.append(message_type.routing_key())

    @property
    def connected(self) -> bool:
        """The connection is up now: a robust connection that lost the broker stays open (not
        ``is_closed``) while it reconnects, but its ``connected`` event is clear until it is back."""
        connection = self._connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def connect(self, attempts: int = 30) -> None:
        """Connect (retrying while the broker starts) and declare the topology."""
        for attempt in range(1, attempts + 1):
            try:
                self._connection = await aio_pika.connect_robust(self.settings.amqp_url)
                break
            except (ConnectionError, OSError, aio_pika.exceptions.AMQPConnectionError) as exc:
                if attempt == attempts:
                    raise
                log.warning("broker not reachable, retrying", extra={"error": str(exc), "attempt": attempt})
                await asyncio.sleep(min(0.5 * attempt, 3.0))
        assert self._connection is not None
        log.info("connected to the bus", extra={"bus_user": self.user})
        if self.user in self.senders.trusted:
            log.warning(
                "connected to the bus as an operator account, not a service user: run "
                "`python -m shared.bus.users` and give the service its own <SERVICE>_AMQP_URL",
                extra={"bus_user": self.user},
            )
        self._publish_channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await declare_exchange(self._publish_channel, self.names)
        if self._handlers:
            channel = await self._connection.channel()
            await channel.set_qos(prefetch_count=self.settings.prefetch)
            self._queue = await declare_service_queues(
                channel,
                self.names,
                self._routing_keys,
                self.settings.retry_delays_ms,
                self.settings.delivery_limit,
            )

    async def start_consuming(self) -> None:
        if self._queue is not None:
            self._consumer_tag = await self._queue.consume(self._on_delivery)

    async def stop_consuming(self, grace_s: float) -> None:
        """Stop taking deliveries and let in-flight handlers finish (clean SIGTERM)."""
        if self._queue is not None and self._consumer_tag is not None:
            await self._queue.cancel(self._consumer_tag)
            self._consumer_tag = None
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace_s)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def publish(self, envelope: Envelope) -> None:
        """Publish persistently and wait for the broker's confirm.

        Commands are mandatory: a command no queue is bound for raises, so the outbox
        keeps it until its consumer has declared its queue. Events may have no subscriber.
        """
        assert self._exchange is not None, "Bus.connect() first"
        mandatory = envelope.routing_key.startswith("cmd.")
        parent = propagate.extract(envelope.trace)
        with tracer.start_as_current_span(
            f"{envelope.type} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": self.names.exchange,
                "messaging.rabbitmq.destination.routing_key": envelope.routing_key,
                "messaging.message.id": envelope.message_id,
                "order.id": envelope.correlation_id,
            },
        ):
            headers: dict[str, Any] = {}
            propagate.inject(headers)
            await self._exchange.publish(
                _amqp_message(envelope.model_dump_json().encode(), envelope, headers, self.user),
                routing_key=envelope.routing_key,
                mandatory=mandatory,
            )

    async def _on_delivery(self, delivery: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._deliveries.handle(delivery)
        finally:
            if task is not None:
                self._in_flight.discard(task)


def _amqp_message(body: bytes, envelope: Envelope, headers: dict[str, Any], user: str) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=envelope.message_id,
        correlation_id=envelope.correlation_id,
        type=envelope.type,
        app_id=envelope.producer,
        timestamp=envelope.occurred_at,
        user_id=user,  # RabbitMQ refuses a user_id that is not the connection's (issue 7)
    )
