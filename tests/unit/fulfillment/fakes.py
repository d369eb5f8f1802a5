"""Fulfillment's in-memory stores with the unique key of issue 8: (order_id, sku, raised_by_change),
as ``MongoSupplyOrderStore`` (mongo_supply_orders.KEY). tests/support/fakes_fulfillment.py still
keys supply orders by (order_id, sku), which forbids the new supply order an order change raises
for a SKU whose first one completed; this subclass is the fake fulfillment's tests use (the
store contract tests hold it to the Mongo adapter)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from services.fulfillment.adapters import mongo_supply_orders as orders_doc
from services.fulfillment.domain import SupplyOrder
from tests.support.fakes import FakeBus, FakeDocuments
from tests.support.fakes_fulfillment import FakeSupplyOrderStore as OldKeyedSupplyOrderStore
from tests.support.fakes_fulfillment import FakeSupplyRequestStore

__all__ = ["FakeSupplyOrderStore", "FakeSupplyRequestStore"]


class FakeSupplyOrderStore(OldKeyedSupplyOrderStore):
    """``MongoSupplyOrderStore`` in memory: one supply order per (order, SKU, raising change)."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus, unique=[orders_doc.KEY])

    async def add(self, order: SupplyOrder, trace: dict[str, str]) -> SupplyOrder:
        try:
            await self.collection.insert(orders_doc.new_doc(order, trace))
        except DuplicateKeyError:
            doc = self.collection.find(**orders_doc.key_of(order))
            if doc is None:
                raise
            return orders_doc.from_doc(doc)
        order.version = 1
        return order
