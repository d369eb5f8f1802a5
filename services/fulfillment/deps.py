"""What fulfillment's handlers depend on, and the one way they change a document (shared.aggregates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pymongo.errors import DuplicateKeyError

from services.fulfillment.domain import SupplyRequest
from services.fulfillment.ports import SupplyOrderStore, SupplyRequestStore
from services.fulfillment.settings import Settings
from shared.aggregates import AggregateStore, Answers, Changed, Decision, Loaded, NotFound, change
from shared.contracts import Message
from shared.envelope import Envelope

A = TypeVar("A")
Envelopes = Callable[[Sequence[Message], Loaded[A]], list[Envelope]]


@dataclass
class Fulfillment:
    """Built once by ``main.bootstrap``; handler tests pass the ``Fake...`` stores."""

    settings: Settings
    supply_orders: SupplyOrderStore
    requests: SupplyRequestStore

    def envelopes(self, messages: Sequence[Message], cause: Envelope | None) -> list[Envelope]:
        return Answers(self.settings.service_name, cause)(messages)

    async def change(
        self,
        store: AggregateStore[A],
        key: str,
        decide: Callable[[A], Decision],
        cause: Envelope | None,
        envelopes: Envelopes[A] | None = None,
    ) -> Changed[A]:
        """``shared.aggregates.change`` with this service's envelopes and attempts."""
        return await change(
            store,
            key,
            decide,
            envelopes=envelopes or (lambda messages, _: self.envelopes(messages, cause)),
            attempts=self.settings.write_attempts,
        )

    async def change_or_insert(
        self,
        order_id: str,
        decide: Callable[[SupplyRequest], Decision],
        first: Callable[[], tuple[SupplyRequest, list[Message]]],
        cause: Envelope,
    ) -> Changed[SupplyRequest]:
        """``decide`` on the order's supply request; when there is none yet, insert ``first()``
        with its messages. A racing RaiseSupply or CancelSupply that inserted first makes ours a
        duplicate key: then ``decide`` runs on what it wrote."""
        try:
            return await self.change(self.requests, order_id, decide, cause)
        except NotFound:
            pass
        return await self.insert_or_change(order_id, decide, *first(), cause)

    async def insert_or_change(
        self,
        order_id: str,
        decide: Callable[[SupplyRequest], Decision],
        request: SupplyRequest,
        messages: list[Message],
        cause: Envelope,
    ) -> Changed[SupplyRequest]:
        """Insert the order's first supply request; if another got there first, ``decide`` on it."""
        try:
            saved = await self.requests.insert(request, self.envelopes(messages, cause))
        except DuplicateKeyError:
            return await self.change(self.requests, order_id, decide, cause)
        await self.requests.flush(saved)
        return Changed(saved, True, messages)
