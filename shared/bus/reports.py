"""What a service tells the order's owner when it parks a message (issue 7): ``MessageParked``,
so that an order whose command or reply is parked shows as stuck instead of silently waiting.

The parking path has no document to stage an outbox entry in, so the report is published
straight away with the broker's confirm, before the parked delivery is acked: a crash in
between parks and reports the message once more (under the same report id), and a report that
cannot be published is logged and dropped; the parked message itself is never lost for it
(docs/ARCHITECTURE.md "Parked messages"). Nothing is reported for a message that names no order
(a body that is not an envelope and has no AMQP correlation id) or that is a report itself.
"""

from __future__ import annotations

import uuid

from aio_pika.abc import AbstractIncomingMessage

from shared.contracts import MessageParked
from shared.envelope import Envelope, new_envelope

ERROR_CHARS = 500  # of the error the report carries; the parked copy's x-error header has more
_UNPARSED = uuid.UUID("0d6c1c55-54a7-4c8e-8f3e-3b1f5f2a7c11")


def parked_report(
    delivery: AbstractIncomingMessage, envelope: Envelope | None, service: str, error: str, attempts: int
) -> Envelope | None:
    """The ``MessageParked`` envelope for a delivery ``service`` parks, or None when there is no
    order to tell about. Its id derives from the parked message's, so a repeat is one message."""
    order_id = envelope.correlation_id if envelope is not None else delivery.correlation_id
    message_type = envelope.type if envelope is not None else delivery.type
    message_id = envelope.message_id if envelope is not None else delivery.message_id
    if not order_id or message_type == MessageParked.type_name():
        return None
    report = MessageParked(
        order_id=order_id,
        message_id=message_id or "",
        message_type=message_type or "unknown",
        service=service,
        error=error[:ERROR_CHARS],
        attempts=attempts,
    )
    if envelope is not None:
        return new_envelope(report, producer=service, causation=envelope)
    report_id = uuid.uuid5(_UNPARSED, f"{service}/{message_id or delivery.body.hex()[:64]}").hex
    return new_envelope(report, producer=service, message_id=report_id)
