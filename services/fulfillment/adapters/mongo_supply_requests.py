"""Per-order supply requests: the reply outbox for RaiseSupply/CancelSupply and the cancel tombstone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.fulfillment.domain import SupplyRequest, SupplyRequestStatus
from shared.aggregates import Loaded
from shared.contracts import SupplyChanged
from shared.envelope import Envelope, utcnow
from shared.outbox import Outbox
from shared.store import insert_doc, stage

Doc = dict[str, Any]


def answer_doc(answer: SupplyChanged) -> Doc:
    """An order change's answer as stored: a list, never a map keyed by an outside id (a change id
    or a SKU may hold a '.', which MongoDB reads as a path)."""
    payload = answer.model_dump(mode="json")
    payload["kept"] = [[sku, why] for sku, why in answer.kept.items()]
    return payload


def answer_of(doc: Doc) -> SupplyChanged:
    return SupplyChanged.model_validate({**doc, "kept": {sku: why for sku, why in doc.get("kept") or []}})


def to_fields(request: SupplyRequest) -> Doc:
    return {
        "_id": request.order_id,
        "status": request.status.value,
        "supply_order_ids": list(request.supply_order_ids),
        "cancelled_ids": list(request.cancelled_ids),
        "changes": [answer_doc(answer) for answer in request.changes.values()],
    }


def from_doc(doc: Doc) -> SupplyRequest:
    return SupplyRequest(
        order_id=doc["_id"],
        status=SupplyRequestStatus(doc["status"]),
        supply_order_ids=list(doc.get("supply_order_ids") or []),
        cancelled_ids=list(doc.get("cancelled_ids") or []),
        changes={a.change_id: a for a in map(answer_of, doc.get("changes") or [])},
        version=doc.get("version", 0),
    )


def new_doc(request: SupplyRequest, envelopes: Sequence[Envelope]) -> Doc:
    now = utcnow()
    return stage({**to_fields(request), "created_at": now, "updated_at": now}, envelopes)


def changed_doc(loaded: Loaded[SupplyRequest], envelopes: Sequence[Envelope]) -> Doc:
    """The document read, with the request's fields and the new messages (earlier entries stay)."""
    return stage({**loaded.doc, **to_fields(loaded.aggregate), "updated_at": utcnow()}, envelopes)


class MongoSupplyRequestStore:
    """Fulfillment's ``SupplyRequestStore`` (services/fulfillment/ports.py) on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def load(self, key: str) -> Loaded[SupplyRequest] | None:
        doc = await self.collection.find_one({"_id": key})
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, request: SupplyRequest, envelopes: Sequence[Envelope]) -> Loaded[SupplyRequest]:
        return Loaded(request, await insert_doc(self.collection, new_doc(request, envelopes)))

    async def save(
        self, loaded: Loaded[SupplyRequest], envelopes: Sequence[Envelope]
    ) -> Loaded[SupplyRequest]:
        """Replace the document read; ConcurrencyError if anyone wrote it since."""
        written = await self.outbox.replace(self.collection, changed_doc(loaded, envelopes))
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[SupplyRequest]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, aggregate: SupplyRequest) -> Doc:
        return to_fields(aggregate)
