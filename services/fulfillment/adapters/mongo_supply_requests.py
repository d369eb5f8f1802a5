"""Per-order supply requests: the reply outbox for RaiseSupply/CancelSupply and the cancel tombstone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.fulfillment.domain import SupplyRequest, SupplyRequestStatus
from shared.envelope import Envelope, utcnow
from shared.store import insert_doc, replace_doc, stage

Doc = dict[str, Any]


def to_fields(request: SupplyRequest) -> Doc:
    return {
        "_id": request.order_id,
        "status": request.status.value,
        "supply_order_ids": list(request.supply_order_ids),
        "cancelled_ids": list(request.cancelled_ids),
    }


def from_doc(doc: Doc) -> SupplyRequest:
    return SupplyRequest(
        order_id=doc["_id"],
        status=SupplyRequestStatus(doc["status"]),
        supply_order_ids=list(doc.get("supply_order_ids") or []),
        cancelled_ids=list(doc.get("cancelled_ids") or []),
        version=doc.get("version", 0),
    )


class MongoSupplyRequestStore:
    """One document per order (business key)."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def load(self, order_id: str) -> tuple[SupplyRequest, Doc] | None:
        doc = await self.collection.find_one({"_id": order_id})
        return (from_doc(doc), doc) if doc else None

    async def insert(self, request: SupplyRequest, replies: Iterable[Envelope] = ()) -> Doc:
        """Create; DuplicateKeyError means a racing RaiseSupply or CancelSupply got there first."""
        now = utcnow()
        return await insert_doc(self.collection, stage({**to_fields(request), "created_at": now,
                                                        "updated_at": now}, replies))  # fmt: skip

    async def save(self, request: SupplyRequest, loaded: Doc, replies: Iterable[Envelope] = ()) -> Doc:
        """Replace the document read as ``loaded``; ConcurrencyError if anyone wrote it since."""
        doc = {**loaded, **to_fields(request), "updated_at": utcnow()}
        doc["outbox"] = dict(loaded.get("outbox") or {})
        return await replace_doc(self.collection, stage(doc, replies))
