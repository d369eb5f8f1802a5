"""What fulfillment's handlers need from a store (issue 6): the two repository ports.

``MongoSupplyRequestStore`` and ``MongoSupplyOrderStore`` implement them on the real store, the
``Fake...`` stores of tests/support/fakes_fulfillment.py in memory; the behaviour suites in
tests/integration/fulfillment/ hold both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.fulfillment.domain import SupplyOrder, SupplyRequest
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope
from shared.paging import Key, Keyset, Page

# GET /supply-orders pages by (created_at, supply_order_id), in the list's direction.
SUPPLY_ORDER_PAGES = Keyset("supply-orders", datetime, str)


class SupplyRequestStore(AggregateStore[SupplyRequest], Protocol):
    """One request per order (its ``_id``): the replies' outbox and the cancellation tombstone."""

    async def insert(self, request: SupplyRequest, envelopes: Sequence[Envelope]) -> Loaded[SupplyRequest]:
        """Create it; DuplicateKeyError means a racing RaiseSupply or CancelSupply got there first."""
        ...


class SupplyOrderStore(AggregateStore[SupplyOrder], Protocol):
    """Supply orders by id, one per (order, SKU) from RaiseSupply and one per (order, SKU) from each
    order change (``raised_by_change``, issue 8)."""

    async def add(self, order: SupplyOrder, trace: dict[str, str]) -> SupplyOrder:
        """Insert, or return the one already raised for the same (order, SKU, raising change);
        ``trace`` is the order's trace context, kept so that the later completion joins the order's
        trace."""
        ...

    async def of_order(self, order_id: str) -> list[SupplyOrder]:
        """An order's supply orders, oldest first."""
        ...

    async def page(
        self, *, order_id: str | None = None, status: str | None = None, limit: int, after: Key | None = None
    ) -> Page[SupplyOrder]:
        """A page after the key (created_at, supply_order_id) ``after``: one order's oldest first,
        open ones oldest first (a work queue: none starves), otherwise the newest first."""
        ...
