"""The one envelope every message travels in (STYLE.md), validated on both ends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate
from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import MESSAGE_TYPES, Message
from shared.errors import PermanentError


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_millis(at: datetime) -> datetime:
    """``at`` in UTC cut to the millisecond, what BSON keeps: a time answered now equals the one
    read back later, and a resent report with the same time compares equal (the one such clock)."""
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def utcnow_ms() -> datetime:
    """The current time as the store will keep it (``to_millis``)."""
    return to_millis(utcnow())


class Envelope(BaseModel):
    """Message id, type, version, correlation (the order), causation, time, producer, trace, payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    type: str
    version: int = 1
    correlation_id: str
    causation_id: str | None = None
    occurred_at: datetime
    producer: str
    trace: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, Any]

    @property
    def routing_key(self) -> str:
        return message_class(self.type).routing_key()

    def message(self) -> Message:
        """The payload as its contract class; an unknown type, a version newer than the class
        (``NewerVersion``) or a bad payload is permanent: the consumer parks it."""
        cls = message_class(self.type)
        check_version(self, cls)
        try:
            return cls.model_validate(self.payload)
        except ValueError as exc:
            raise PermanentError(f"invalid {self.type} payload: {exc}") from exc


class NewerVersion(PermanentError):
    """An envelope whose ``version`` is newer than this code's contract class reads (issue 9)."""


def check_version(envelope: Envelope, cls: type[Message]) -> None:
    """Refuse what this code cannot read: a version above ``cls.VERSION`` (a producer upgraded
    before this consumer) or below 1. Older versions are the contract class's to read."""
    if envelope.version > cls.VERSION:
        raise NewerVersion(
            f"{envelope.type} version {envelope.version} is newer than this service understands "
            f"(up to {cls.VERSION}): parked until a consumer that reads it is deployed, then replay it"
        )
    if envelope.version < 1:
        raise PermanentError(f"{envelope.type} version {envelope.version} is not a version (they start at 1)")


def message_class(type_name: str) -> type[Message]:
    try:
        return MESSAGE_TYPES[type_name]
    except KeyError:
        raise PermanentError(f"unknown message type {type_name!r}") from None


def current_trace(fallback: dict[str, str] | None = None) -> dict[str, str]:
    """W3C trace context of the active span, else the one handed down (relay, replays)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier if "traceparent" in carrier else dict(fallback or {})


def reply_id(cause: Envelope, message: Message) -> str:
    """The one message id of ``message`` as the answer to ``cause``: a duplicate of a command is
    answered under the same id as the original, so the requester recognises it (ARCHITECTURE.md)."""
    return uuid.uuid5(_REPLIES, f"{cause.message_id}/{message.type_name()}").hex


_REPLIES = uuid.UUID("5b1d3c0e-6f3a-4c1e-9a57-0a5e1f6d2b10")


def new_envelope(
    message: Message, *, producer: str, causation: Envelope | None = None, message_id: str | None = None
) -> Envelope:
    """Wrap ``message``; the order id is the correlation id so one order is one conversation.

    A message caused by another (a reply to a command) gets the id ``reply_id`` derives from its
    cause unless ``message_id`` says otherwise; a message nobody sent a command for gets a new id.
    """
    if message_id is None:
        message_id = reply_id(causation, message) if causation is not None else uuid.uuid4().hex
    return Envelope(
        message_id=message_id,
        type=message.type_name(),
        version=type(message).VERSION,
        correlation_id=message.order_id,
        causation_id=causation.message_id if causation else None,
        occurred_at=utcnow(),
        producer=producer,
        trace=current_trace(causation.trace if causation else None),
        payload=message.model_dump(mode="json"),
    )


def parse_envelope(body: bytes) -> Envelope:
    """Decode a delivery body; anything that is not a valid envelope is permanent."""
    try:
        return Envelope.model_validate_json(body)
    except ValueError as exc:
        raise PermanentError(f"malformed envelope: {exc}") from exc
