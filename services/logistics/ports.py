"""What logistics needs from outside (issue 6): the shipment repository port, and the consignee's
phone, which intake keeps (issue 7).

``MongoShipmentStore`` implements it on the real store; ``FakeShipmentStore`` (tests/support) in
memory, held to the same behaviour by tests/integration/logistics/test_shipment_store_contract.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.logistics.domain import Shipment
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope


class ShipmentStore(AggregateStore[Shipment], Protocol):
    """Shipments keyed by order (one per order, ``load``), also found by their own id."""

    async def load_by_id(self, shipment_id: str) -> Loaded[Shipment] | None:
        """The shipment with this id (carrier reports name the shipment, not the order)."""
        ...

    async def insert(self, shipment: Shipment, envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        """Store a new shipment (or tombstone); DuplicateKeyError when the order has one already."""
        ...


class ConsigneePhones(Protocol):
    """The phone of an order's consignee, asked of its owner when a packing list is printed."""

    async def phone(self, order_id: str) -> str:
        """ConsigneeUnknown when there is no such order, DependencyUnavailable when it cannot be asked."""
        ...


class ShipmentsById:
    """The same store keyed by shipment id, so ``shared.aggregates.change`` can apply a carrier report."""

    def __init__(self, store: ShipmentStore) -> None:
        self.store = store

    async def load(self, shipment_id: str) -> Loaded[Shipment] | None:
        return await self.store.load_by_id(shipment_id)

    async def save(self, loaded: Loaded[Shipment], envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return await self.store.save(loaded, envelopes)

    async def flush(self, saved: Loaded[Shipment]) -> None:
        await self.store.flush(saved)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.store.publish(envelopes)

    def fingerprint(self, aggregate: Shipment) -> object:
        return self.store.fingerprint(aggregate)
