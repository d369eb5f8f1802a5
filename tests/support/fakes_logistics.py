"""In-memory adapters for logistics' handler tests (issue 6), and ``FakeDocuments``: one collection
in memory under the store's write rules, which the other services' fakes build on as well.

The fakes keep the Mongo adapters' document format (they call the same mapping functions), so
the outbox rule is the same: a writer flushes only what its own write staged, entries are cleared
by id (as Outbox.flush_deferred does).
tests/integration/logistics/test_shipment_store_contract.py holds
``FakeShipmentStore`` to ``MongoShipmentStore``.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.logistics.adapters.mongo_shipments import changed_doc, from_doc, new_doc, to_doc
from services.logistics.domain import Shipment
from services.logistics.ports import ShipmentStore
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.store import Doc
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore


class FakeShipmentStore(FakeDocumentStore, ShipmentStore):
    """``MongoShipmentStore`` in memory: one shipment per order."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus, unique=[("order_id",)])

    async def load(self, key: str) -> Loaded[Shipment] | None:
        doc = self.collection.find(order_id=key)
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_by_id(self, shipment_id: str) -> Loaded[Shipment] | None:
        doc = self.collection.find(_id=shipment_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, shipment: Shipment, envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return Loaded(shipment, await self.collection.insert(new_doc(shipment, envelopes)))

    async def save(self, loaded: Loaded[Shipment], envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return Loaded(loaded.aggregate, await self.collection.replace(changed_doc(loaded, envelopes)))

    def fingerprint(self, aggregate: Shipment) -> Doc:
        return to_doc(aggregate)
