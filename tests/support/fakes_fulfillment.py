"""In-memory adapters for fulfillment's handler tests (issue 6): the ports of
services/fulfillment/ports.py on ``FakeDocuments``, with the Mongo adapters' document format.
tests/integration/fulfillment/test_supply_request_store_contract.py and
test_supply_order_store_contract.py hold them to the Mongo adapters."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError

from services.fulfillment.adapters import mongo_supply_orders as orders_doc
from services.fulfillment.adapters import mongo_supply_requests as requests_doc
from services.fulfillment.domain import SupplyOrder, SupplyRequest
from services.fulfillment.ports import SupplyOrderStore, SupplyRequestStore
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.paging import Key, Page, slice_page
from shared.store import Doc
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore


class FakeSupplyRequestStore(FakeDocumentStore, SupplyRequestStore):
    """``MongoSupplyRequestStore`` in memory: one request per order."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def load(self, key: str) -> Loaded[SupplyRequest] | None:
        doc = self.collection.find(_id=key)
        return Loaded(requests_doc.from_doc(doc), doc) if doc else None

    async def insert(self, request: SupplyRequest, envelopes: Sequence[Envelope]) -> Loaded[SupplyRequest]:
        return Loaded(request, await self.collection.insert(requests_doc.new_doc(request, envelopes)))

    async def save(
        self, loaded: Loaded[SupplyRequest], envelopes: Sequence[Envelope]
    ) -> Loaded[SupplyRequest]:
        doc = await self.collection.replace(requests_doc.changed_doc(loaded, envelopes))
        return Loaded(loaded.aggregate, doc)

    def fingerprint(self, aggregate: SupplyRequest) -> Doc:
        return requests_doc.to_fields(aggregate)


class FakeSupplyOrderStore(FakeDocumentStore, SupplyOrderStore):
    """``MongoSupplyOrderStore`` in memory: one supply order per (order, SKU, raising change) - the
    change is "" for RaiseSupply's, an order change's id for those it raises (issue 8)."""

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

    async def load(self, key: str) -> Loaded[SupplyOrder] | None:
        doc = self.collection.find(_id=key)
        return Loaded(orders_doc.from_doc(doc), doc) if doc else None

    async def save(self, loaded: Loaded[SupplyOrder], envelopes: Sequence[Envelope]) -> Loaded[SupplyOrder]:
        doc = await self.collection.replace(orders_doc.changed_doc(loaded, envelopes))
        return Loaded(loaded.aggregate, doc)

    def fingerprint(self, aggregate: SupplyOrder) -> Doc:
        return orders_doc.to_fields(aggregate)

    async def of_order(self, order_id: str) -> list[SupplyOrder]:
        docs = sorted(self.collection.find_all(order_id=order_id), key=lambda d: (d["created_at"], d["sku"]))
        return [orders_doc.from_doc(doc) for doc in docs]

    async def page(
        self, *, order_id: str | None = None, status: str | None = None, limit: int, after: Key | None = None
    ) -> Page[SupplyOrder]:
        docs = self.collection.find_all(**orders_doc.page_query(order_id, status))
        order = orders_doc.page_order(order_id, status)
        return slice_page(docs, order, after, limit).map(orders_doc.from_doc)
