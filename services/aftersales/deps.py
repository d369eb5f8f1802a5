"""What the aftersales use cases depend on, and how they retry a write that lost a race."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.aftersales.adapters import (
    MongoIdempotencyKeys,
    MongoRefundLedgerStore,
    MongoReturnStore,
    OrderLookup,
)
from services.aftersales.settings import Settings
from shared.contracts import Message
from shared.envelope import Envelope, new_envelope, utcnow
from shared.errors import ConcurrencyError

log = logging.getLogger(__name__)
T = TypeVar("T")
PRODUCER = "aftersales"


@dataclass
class Deps:
    """What the handlers need; ``bootstrap`` builds it, tests may pass their own adapters."""

    settings: Settings
    returns: MongoReturnStore
    ledgers: MongoRefundLedgerStore
    orders: OrderLookup
    keys: MongoIdempotencyKeys
    clock: Callable[[], datetime] = field(default=utcnow)


def envelopes(messages: Iterable[Message], causation: Envelope | None) -> list[Envelope]:
    return [new_envelope(m, producer=PRODUCER, causation=causation) for m in messages]


async def with_retries(attempts: int, step: Callable[[], Awaitable[T]]) -> T:
    """Run ``step`` again from a fresh read when an optimistic write lost a race."""
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except ConcurrencyError:
            if attempt == attempts:
                raise
            log.info("write lost a race, deciding again", extra={"attempt": attempt})
    raise AssertionError("unreachable")
