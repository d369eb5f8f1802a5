"""Supply orders in MongoDB, one document each; unique on (order_id, sku) so a replay raises nothing new.

Each document carries its own outbox: completing it stages SupplyCompleted in the same write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.fulfillment.domain import SupplyOrder, SupplyStatus
from shared.envelope import Envelope
from shared.store import insert_doc, replace_doc, stage

Doc = dict[str, Any]


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
        version=doc.get("version", 0),
    )


class MongoSupplyOrderStore:
    """Supply orders by id and by order."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index([("order_id", 1), ("sku", 1)], unique=True)
        await self.collection.create_index([("status", 1), ("created_at", 1)])

    async def add(self, order: SupplyOrder, trace: dict[str, str] | None = None) -> SupplyOrder:
        """Insert, or return the one already raised for the same (order, sku).

        ``trace`` is the order's trace context, kept so the later completion joins the order's trace.
        """
        try:
            await insert_doc(self.collection, {**to_fields(order), "trace": dict(trace or {})})
            order.version = 1
            return order
        except DuplicateKeyError:
            doc = await self.collection.find_one({"order_id": order.order_id, "sku": order.sku})
            if doc is None:  # the duplicate was on _id, which a fresh random id never hits
                raise
            return from_doc(doc)

    async def load(self, supply_order_id: str) -> tuple[SupplyOrder, Doc] | None:
        doc = await self.collection.find_one({"_id": supply_order_id})
        return (from_doc(doc), doc) if doc else None

    async def of_order(self, order_id: str) -> list[tuple[SupplyOrder, Doc]]:
        """An order's supply orders, oldest first."""
        cursor = self.collection.find({"order_id": order_id}).sort([("created_at", 1), ("sku", 1)])
        return [(from_doc(doc), doc) async for doc in cursor]

    async def page(self, *, status: str | None, limit: int) -> list[SupplyOrder]:
        """Open ones oldest first (a work queue: none starves), otherwise the newest first."""
        query = {"status": status} if status else {}
        direction = 1 if status == "open" else -1
        cursor = self.collection.find(query).sort([("created_at", direction), ("_id", 1)]).limit(limit)
        return [from_doc(doc) async for doc in cursor]

    async def save(self, order: SupplyOrder, loaded: Doc, replies: Iterable[Envelope] = ()) -> Doc:
        """Replace the document read as ``loaded``; ConcurrencyError if anyone wrote it since."""
        doc = {**loaded, **to_fields(order)}
        doc["outbox"] = dict(loaded.get("outbox") or {})
        return await replace_doc(self.collection, stage(doc, replies))
