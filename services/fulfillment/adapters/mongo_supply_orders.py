"""Supply orders in MongoDB, one document each; unique on (order_id, sku, raised_by_change) so a
replayed RaiseSupply ("") or ChangeSupply (its change id) raises nothing new, while an order change
may raise a new one for a SKU whose supply order completed or was cancelled (issue 8).

Each document carries its own outbox: completing it stages SupplyCompleted in the same write.
Databases from before issue 8 (unique on (order_id, sku), no ``raised_by_change``) are brought
up to date by ``create_indexes`` (adapters/migrate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.fulfillment.adapters.migrate import migrate
from services.fulfillment.domain import SupplyOrder, SupplyStatus
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.outbox import Outbox
from shared.paging import Key, Order, Page, find_page
from shared.store import insert_doc, stage

Doc = dict[str, Any]

# The unique key: one supply order per (order, SKU) from RaiseSupply, and per (order, SKU) from each change.
KEY = ("order_id", "sku", "raised_by_change")


def key_of(order: SupplyOrder) -> Doc:
    return {"order_id": order.order_id, "sku": order.sku, "raised_by_change": order.raised_by_change}


def page_order(order_id: str | None, status: str | None) -> Order:
    """One order's supply orders and the open ones oldest first, any others newest first."""
    return Order("created_at", 1 if order_id is not None or status == "open" else -1)


def page_query(order_id: str | None, status: str | None) -> Doc:
    return {k: v for k, v in (("order_id", order_id), ("status", status)) if v is not None}


def to_fields(order: SupplyOrder) -> Doc:
    return {
        "_id": order.supply_order_id,
        "order_id": order.order_id,
        "kind": order.kind,
        "sku": order.sku,
        "quantity": order.quantity,
        "status": order.status.value,
        "expected_at": order.expected_at,
        "created_at": order.created_at,
        "completed_at": order.completed_at,
        "cancelled_at": order.cancelled_at,
        "started_at": order.started_at,
        "started_by": order.started_by,
        "raised_by_change": order.raised_by_change,
        "changed_by": list(order.changed_by),
    }


def from_doc(doc: Doc) -> SupplyOrder:
    return SupplyOrder(
        supply_order_id=doc["_id"],
        order_id=doc["order_id"],
        kind=doc["kind"],
        sku=doc["sku"],
        quantity=doc["quantity"],
        status=SupplyStatus(doc["status"]),
        expected_at=doc["expected_at"],
        created_at=doc["created_at"],
        completed_at=doc.get("completed_at"),
        cancelled_at=doc.get("cancelled_at"),
        started_at=doc.get("started_at"),  # documents from before issue 8: not started
        started_by=doc.get("started_by"),
        raised_by_change=doc.get("raised_by_change") or "",
        changed_by=list(doc.get("changed_by") or []),
        version=doc.get("version", 0),
    )


def new_doc(order: SupplyOrder, trace: dict[str, str]) -> Doc:
    return {**to_fields(order), "trace": dict(trace)}


def changed_doc(loaded: Loaded[SupplyOrder], envelopes: Sequence[Envelope]) -> Doc:
    """The document read, with the order's fields and the new messages (earlier entries stay)."""
    return stage({**loaded.doc, **to_fields(loaded.aggregate)}, envelopes)


class MongoSupplyOrderStore:
    """Fulfillment's ``SupplyOrderStore`` (services/fulfillment/ports.py) on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await migrate(self.collection)  # the unique key of before issue 8 goes first
        await self.collection.create_index([(name, 1) for name in KEY], unique=True)
        await self.collection.create_index([("status", 1), ("created_at", 1)])
        # (created_at, _id) would serve the pages' tiebreak too, but the embedded store cannot
        # index _id in a compound index (docs/STORE-NOTES.md): ties are few, MongoDB sorts those.
        await self.collection.create_index([("created_at", 1)])

    async def add(self, order: SupplyOrder, trace: dict[str, str]) -> SupplyOrder:
        try:
            await insert_doc(self.collection, new_doc(order, trace))
            order.version = 1
            return order
        except DuplicateKeyError:
            doc = await self.collection.find_one(key_of(order))
            if doc is None:  # the duplicate was on _id, which a fresh random id never hits
                raise
            return from_doc(doc)

    async def load(self, key: str) -> Loaded[SupplyOrder] | None:
        doc = await self.collection.find_one({"_id": key})
        return Loaded(from_doc(doc), doc) if doc else None

    async def save(self, loaded: Loaded[SupplyOrder], envelopes: Sequence[Envelope]) -> Loaded[SupplyOrder]:
        """Replace the document read; ConcurrencyError if anyone wrote it since."""
        written = await self.outbox.replace(self.collection, changed_doc(loaded, envelopes))
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[SupplyOrder]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, aggregate: SupplyOrder) -> Doc:
        return to_fields(aggregate)

    async def of_order(self, order_id: str) -> list[SupplyOrder]:
        cursor = self.collection.find({"order_id": order_id}).sort([("created_at", 1), ("sku", 1)])
        return [from_doc(doc) async for doc in cursor]

    async def page(
        self, *, order_id: str | None = None, status: str | None = None, limit: int, after: Key | None = None
    ) -> Page[SupplyOrder]:
        query, order = page_query(order_id, status), page_order(order_id, status)
        return (await find_page(self.collection, query, order, after, limit)).map(from_doc)
