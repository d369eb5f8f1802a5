"""What the aftersales use cases depend on, and the one way they change a return (shared.aggregates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.aftersales.adapters import OrderLookup
from services.aftersales.ports import RefundLedgerStore, ReturnStore
from services.aftersales.settings import Settings
from shared.aggregates import AggregateStore, Answers, Changed, Decision, change
from shared.envelope import Envelope, utcnow
from shared.idempotency import IdempotencyKeys

A = TypeVar("A")


@dataclass
class Deps:
    """What the handlers need; ``bootstrap`` builds it, tests may pass their own adapters."""

    settings: Settings
    returns: ReturnStore
    ledgers: RefundLedgerStore
    orders: OrderLookup
    keys: IdempotencyKeys
    clock: Callable[[], datetime] = field(default=utcnow)

    async def change(
        self, store: AggregateStore[A], key: str, decide: Callable[[A], Decision], cause: Envelope | None
    ) -> Changed[A]:
        """``shared.aggregates.change`` with this service's envelopes (a reply to ``cause`` takes
        its id from it) and write attempts; NotFound when there is nothing under ``key``."""
        envelopes = Answers(self.settings.service_name, cause)
        return await change(store, key, decide, envelopes=envelopes, attempts=self.settings.write_attempts)
