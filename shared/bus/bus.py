"""Publishing with confirms and consuming with manual acks, retries and parking.

A delivery is acked only after its handler returned, i.e. after the store write.
A handler that raises is retried through the service's TTL queues with back-off;
after ``max_attempts`` (or at once for a PermanentError) the message is parked with
its error and the consumer keeps going.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from shared.bus.topology import Names, declare_exchange, declare_service_queues
from shared.contracts import Message
from shared.envelope import Envelope, parse_envelope
from shared.errors import PermanentError
from shared.logs import log_context
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("shared.bus")

M = TypeVar("M", bound=Message)
Handler = Callable[[Any, Envelope], Awaitable[None]]
ATTEMPTS_HEADER = "x-attempts"


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

    def subscribe(self, message_type: type[M], handler: Callable[[M, Envelope], Awaitable[None]]) -> None:
        """Route ``message_type`` to ``handler``; its routing key is bound to this service's queue."""
        self._handlers[message_type.type_name()] = handler
        self._routing_keys.append(message_type.routing_key())

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

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
                _amqp_message(envelope.model_dump_json().encode(), envelope, headers),
                routing_key=envelope.routing_key,
                mandatory=mandatory,
            )

    async def _on_delivery(self, delivery: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._handle(delivery)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _handle(self, delivery: AbstractIncomingMessage) -> None:
        try:
            envelope = parse_envelope(delivery.body)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                raise PermanentError(f"{self.names.service} has no handler for {envelope.type}")
            message = envelope.message()
        except PermanentError as exc:
            await self._park(delivery, str(exc))
            return
        headers = {k: str(v) for k, v in (delivery.headers or {}).items() if isinstance(v, str | bytes)}
        parent = propagate.extract(headers if "traceparent" in headers else envelope.trace)
        with (
            tracer.start_as_current_span(
                f"{envelope.type} process",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": self.names.queue,
                    "messaging.message.id": envelope.message_id,
                    "order.id": envelope.correlation_id,
                },
            ),
            log_context(order_id=envelope.correlation_id, message_id=envelope.message_id, type=envelope.type),
        ):
            started = time.perf_counter()
            try:
                await handler(message, envelope)
            except PermanentError as exc:
                log.error("message cannot be processed, parking it", extra={"error": str(exc)})
                await self._park(delivery, str(exc))
                return
            except Exception as exc:
                await self._retry_or_park(delivery, exc)
                return
            await delivery.ack()
            log.info("message handled", extra={"ms": round((time.perf_counter() - started) * 1000, 1)})

    async def _retry_or_park(self, delivery: AbstractIncomingMessage, exc: Exception) -> None:
        previous = (delivery.headers or {}).get(ATTEMPTS_HEADER, 0)
        attempts = (previous if isinstance(previous, int) else 0) + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= self.settings.max_attempts:
            log.error("handler failed %d times, parking", attempts, extra={"error": error}, exc_info=exc)
            await self._park(delivery, error, attempts)
            return
        delays = self.settings.retry_delays_ms
        delay = delays[min(attempts - 1, len(delays) - 1)]
        log.warning("handler failed, retrying in %d ms", delay, extra={"error": error, "attempt": attempts})
        headers = dict(delivery.headers or {})
        headers[ATTEMPTS_HEADER] = attempts
        headers["x-last-error"] = error[:1000]
        await self._send_direct(self.names.retry(delay), delivery, headers)
        await delivery.ack()

    async def _park(self, delivery: AbstractIncomingMessage, error: str, attempts: int = 1) -> None:
        headers = dict(delivery.headers or {})
        headers.update(
            {
                "x-error": error[:2000],
                "x-attempts": attempts,
                "x-original-routing-key": delivery.routing_key or "",
            }
        )
        await self._send_direct(self.names.parked, delivery, headers)
        await delivery.ack()

    async def _send_direct(
        self, queue: str, delivery: AbstractIncomingMessage, headers: dict[str, Any]
    ) -> None:
        """Publish a copy straight to one of this service's own queues (confirmed)."""
        assert self._publish_channel is not None
        message = aio_pika.Message(
            delivery.body,
            headers=headers,
            content_type=delivery.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=delivery.message_id,
            correlation_id=delivery.correlation_id,
            type=delivery.type,
            app_id=delivery.app_id,
        )
        await self._publish_channel.default_exchange.publish(message, routing_key=queue, mandatory=True)


def _amqp_message(body: bytes, envelope: Envelope, headers: dict[str, Any]) -> aio_pika.Message:
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
    )
