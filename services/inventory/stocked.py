"""A reservation seen together with the stock writes one delivery makes for it.

Stock documents change through idempotent atomic per-SKU writes (``holds.<order_id>``,
``receipts.<id>``), never inside the reservation's own write, so a decision that needs what
they returned cannot read them itself and stay pure. ``WithStock`` is the reservation store
with that step between load and decide: on every load (the first, and again after a lost race)
it runs ``step`` on the reservation as read and hands the decision both. Repeating the step is
safe because every stock write is idempotent; that is what lets the skeleton decide again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.inventory.domain import Reservation
from services.inventory.ports import ReservationStore
from shared.aggregates import Loaded
from shared.envelope import Envelope

T = TypeVar("T")


@dataclass
class Stocked(Generic[T]):
    """The reservation as read, and what this delivery's stock writes returned for it."""

    reservation: Reservation
    stock: T


class WithStock(Generic[T]):
    """``AggregateStore[Stocked[T]]`` over a reservation store; saves write the reservation only."""

    def __init__(self, reservations: ReservationStore, step: Callable[[Reservation], Awaitable[T]]) -> None:
        self.reservations = reservations
        self.step = step

    async def load(self, order_id: str) -> Loaded[Stocked[T]] | None:
        return await self._with_stock(await self.reservations.load(order_id))

    async def load_cached(self, order_id: str) -> Loaded[Stocked[T]] | None:
        """From the reservation store's memory of its last write when it has one (issue 6 §4); a
        stale copy costs a lost race and a fresh read, and the stock step is safe to repeat."""
        load_cached = getattr(self.reservations, "load_cached", self.reservations.load)
        return await self._with_stock(await load_cached(order_id))

    async def _with_stock(self, loaded: Loaded[Reservation] | None) -> Loaded[Stocked[T]] | None:
        if loaded is None:
            return None
        stocked = Stocked(loaded.aggregate, await self.step(loaded.aggregate))
        return Loaded(stocked, loaded.doc, cached=loaded.cached)

    async def save(self, loaded: Loaded[Stocked[T]], envelopes: Sequence[Envelope]) -> Loaded[Stocked[T]]:
        saved = await self.reservations.save(Loaded(loaded.aggregate.reservation, loaded.doc), envelopes)
        return Loaded(loaded.aggregate, saved.doc)

    async def flush(self, saved: Loaded[Stocked[T]]) -> None:
        await self.reservations.flush(Loaded(saved.aggregate.reservation, saved.doc))

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.reservations.publish(envelopes)

    def fingerprint(self, stocked: Stocked[T]) -> object:
        return self.reservations.fingerprint(stocked.reservation)
