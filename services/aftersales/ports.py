"""What the aftersales use cases need from a store (issue 6): the repository ports.

The Mongo adapters (services/aftersales/adapters/) implement them on the real store, the
``Fake...`` stores of tests/support/fakes_aftersales.py in memory; the behaviour suite
tests/integration/aftersales/test_return_store_contract.py holds both to the same behaviour.
The order being returned comes through ``adapters.intake.OrderLookup``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.aftersales.domain import RefundLedger, Return
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope
from shared.paging import Key, Keyset, Page

# GET /returns?order_id= pages by (order_seq, return_id), oldest first; GET /returns (recent) by
# (requested_at, return_id), newest first. Two lists, two kinds of cursor.
ORDER_RETURN_PAGES = Keyset("returns-of-order", int, str)
RECENT_RETURN_PAGES = Keyset("returns", datetime, str)


class ReturnStore(AggregateStore[Return], Protocol):
    """Returns by id; an order's returns are numbered 1, 2, 3 ... (``order_seq``, unique per order)."""

    async def next_return_id(self, at: datetime) -> str:
        """RT + yyyymm + a serial that never repeats (R8.3 numbering)."""
        ...

    async def insert(self, ret: Return, envelopes: Sequence[Envelope]) -> Loaded[Return]:
        """Store a new return; ConcurrencyError when another return of the order took its
        ``order_seq`` (or a twin request stored the same return id) meanwhile."""
        ...

    async def for_order(self, order_id: str) -> list[Return]:
        """Every return of the order, oldest first."""
        ...

    async def page_of_order(
        self, order_id: str, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        """The returns of the order oldest first, after the key (order_seq, return_id) ``after``;
        only ``customers``' (ids, ``PREFIX*``) unless None."""
        ...

    async def recent(
        self, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        """The newest returns first, after the key (requested_at, return_id) ``after``; only
        ``customers``' unless None."""
        ...


class RefundLedgerStore(AggregateStore[RefundLedger], Protocol):
    """One ledger per order; ``load`` gives an empty one (version 0) before the first refund, and
    its ``save`` creates it then. A ledger carries no messages."""


@dataclass
class OrderReturns:
    """What the door decides on: the returns an order has, and the one a request adds to them."""

    order_id: str
    earlier: list[Return]
    new: Return | None = None

    def find(self, return_id: str) -> Return | None:
        return next((r for r in [*self.earlier, self.new] if r and r.return_id == return_id), None)


class ReturnsOfOrder:
    """A ``ReturnStore`` seen as the store of ``OrderReturns``, so that ``shared.aggregates.change``
    can add a return: a lost race (another return of the order took the number) is decided again
    on the returns as they are now."""

    def __init__(self, returns: ReturnStore) -> None:
        self.returns = returns

    async def load(self, key: str) -> Loaded[OrderReturns]:
        return Loaded(OrderReturns(key, await self.returns.for_order(key)), {})

    async def save(self, loaded: Loaded[OrderReturns], envelopes: Sequence[Envelope]) -> Loaded[OrderReturns]:
        assert loaded.aggregate.new is not None  # a decision that adds nothing writes nothing
        saved = await self.returns.insert(loaded.aggregate.new, envelopes)
        return Loaded(loaded.aggregate, saved.doc)

    async def flush(self, saved: Loaded[OrderReturns]) -> None:
        assert saved.aggregate.new is not None
        await self.returns.flush(Loaded(saved.aggregate.new, saved.doc))

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.returns.publish(envelopes)

    def fingerprint(self, aggregate: OrderReturns) -> object:
        return aggregate.new.return_id if aggregate.new else None
