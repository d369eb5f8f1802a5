"""What happens to one delivery: parse, run its handler, ack after the handler returned (after the
store write); a handler that raises is retried through the service's TTL queues with back-off,
and after ``max_attempts`` (or at once for a PermanentError) parked with its error, reported to
the order's owner (``MessageParked``, reports.py), and the consumer keeps going. A delivery whose
sender may not send it (shared/bus/access.py) is parked at once, never handled and not reported:
a forger must not be able to mark orders stuck (issue 7)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pymongo.errors import ConnectionFailure

from shared.bus.access import SENDER_HEADER
from shared.bus.reports import parked_report
from shared.envelope import Envelope, NewerVersion, parse_envelope
from shared.errors import DependencyUnavailable, PermanentError
from shared.logs import log_context

if TYPE_CHECKING:
    from shared.bus.bus import Bus

log = logging.getLogger("shared.bus.bus")  # the name operators grep for "message handled"
tracer = trace.get_tracer("shared.bus")
ATTEMPTS_HEADER = "x-attempts"
REFUSED = "message refused: its sender may not send it, parking it"
PARKING = "message cannot be processed, parking it"


def _about(envelope: Envelope, error: str) -> dict[str, object]:
    return {"error": error, "order_id": envelope.correlation_id, "message_id": envelope.message_id,
            "type": envelope.type, "version": envelope.version}  # fmt: skip


class Deliveries:
    """The consuming half of a ``Bus``: one call of ``handle`` per delivery."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def handle(self, delivery: AbstractIncomingMessage) -> None:
        envelope: Envelope | None = None
        try:
            envelope = parse_envelope(delivery.body)
            handler = self.bus._handlers.get(envelope.type)
            if handler is None:
                raise PermanentError(f"{self.bus.names.service} has no handler for {envelope.type}")
            message = envelope.message()
        except PermanentError as exc:
            if isinstance(exc, NewerVersion) and envelope is not None:  # a producer upgraded first (issue 9)
                log.error(PARKING, extra=_about(envelope, str(exc)))
            await self._park(delivery, str(exc), envelope=envelope)
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
                    "messaging.destination.name": self.bus.names.queue,
                    "messaging.message.id": envelope.message_id,
                    "order.id": envelope.correlation_id,
                },
            ),
            log_context(order_id=envelope.correlation_id, message_id=envelope.message_id, type=envelope.type),
        ):
            sender = self.bus.senders.sender(delivery)
            refusal = self.bus.senders.refusal(envelope.type, sender)
            if refusal is not None:
                log.error(REFUSED, extra={"error": refusal, "sender": sender})
                await self._park(delivery, refusal, report=False)
                return
            started = time.perf_counter()
            try:
                await handler(message, envelope)
            except PermanentError as exc:
                log.error("message cannot be processed, parking it", extra={"error": str(exc)})
                await self._park(delivery, str(exc), envelope=envelope)
                return
            except Exception as exc:
                await self._retry_or_park(delivery, exc, envelope)
                return
            await delivery.ack()
            log.info("message handled", extra={"ms": round((time.perf_counter() - started) * 1000, 1)})

    async def _retry_or_park(
        self, delivery: AbstractIncomingMessage, exc: Exception, envelope: Envelope | None = None
    ) -> None:
        previous = (delivery.headers or {}).get(ATTEMPTS_HEADER, 0)
        previous = previous if isinstance(previous, int) else 0
        # The store or a service it calls being down says nothing about the message: it waits at the
        # longest back-off for as long as the outage lasts and is never parked for it (issue 9).
        outage = isinstance(exc, ConnectionFailure | DependencyUnavailable)
        attempts = previous if outage else previous + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= self.bus.settings.max_attempts:
            log.error("handler failed %d times, parking", attempts, extra={"error": error}, exc_info=exc)
            await self._park(delivery, error, attempts, envelope=envelope)
            return
        delays = self.bus.settings.retry_delays_ms
        delay = delays[-1] if outage else delays[min(attempts - 1, len(delays) - 1)]
        log.warning("handler failed, retrying in %d ms", delay, extra={"error": error, "attempt": attempts})
        headers = dict(delivery.headers or {})
        headers[ATTEMPTS_HEADER] = attempts
        headers["x-last-error"] = error[:1000]
        await self._send_direct(self.bus.names.retry(delay), delivery, headers)
        await delivery.ack()

    async def _park(
        self,
        delivery: AbstractIncomingMessage,
        error: str,
        attempts: int = 1,
        *,
        envelope: Envelope | None = None,
        report: bool = True,
    ) -> None:
        headers = dict(delivery.headers or {})
        headers.update(
            {
                "x-error": error[:2000],
                "x-attempts": attempts,
                "x-original-routing-key": delivery.routing_key or "",
            }
        )
        await self._send_direct(self.bus.names.parked, delivery, headers)
        if report:
            await self._report_parked(delivery, envelope, error, attempts)
        await delivery.ack()

    async def _report_parked(
        self, delivery: AbstractIncomingMessage, envelope: Envelope | None, error: str, attempts: int
    ) -> None:
        """Tell intake the order has a parked message (shared/bus/reports.py); best effort."""
        report = parked_report(delivery, envelope, self.bus.names.service, error, attempts)
        if report is None:
            return
        try:
            await self.bus.publish(report)
        except Exception as exc:  # the parked copy is safe; only the order's stuck mark is missing
            log.warning("could not report a parked message", extra={"error": repr(exc)})

    async def _send_direct(
        self, queue: str, delivery: AbstractIncomingMessage, headers: dict[str, Any]
    ) -> None:
        """Publish a copy straight to one of this service's own queues (confirmed). The copy is this
        service's own (its user_id) and keeps who sent the original in ``x-sender``."""
        assert self.bus._publish_channel is not None
        headers = {**headers, SENDER_HEADER: self.bus.senders.sender(delivery) or ""}
        message = aio_pika.Message(
            delivery.body,
            headers=headers,
            content_type=delivery.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=delivery.message_id,
            correlation_id=delivery.correlation_id,
            type=delivery.type,
            app_id=delivery.app_id,
            user_id=self.bus.user,
        )
        await self.bus._publish_channel.default_exchange.publish(message, routing_key=queue, mandatory=True)
