"""Shipments in MongoDB: one document per order (unique ``order_id``), replaced whole.

Carrier events are a list inside the document, written by whole-document replace under
optimistic concurrency on ``version`` - never ``$push`` of sub-documents (STORE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.logistics.domain import Consignee, Shipment, ShipmentEvent
from shared.envelope import Envelope, utcnow
from shared.store import insert_doc, replace_doc, stage

Doc = dict[str, Any]


def to_doc(s: Shipment) -> Doc:
    consignee = (
        None
        if s.consignee is None
        else {"name": s.consignee.name, "phone": s.consignee.phone, "address": s.consignee.address}
    )
    return {
        "_id": s.shipment_id,
        "order_id": s.order_id,
        "carrier": s.carrier,
        "mode": s.mode,
        "tracking_number": s.tracking_number,
        "status": s.status,
        "consignee": consignee,
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in s.lines],
        "amount": s.amount,
        "events": [{"type": e.type, "at": e.at, "note": e.note} for e in s.events],
        "tombstone": s.tombstone,
    }


def from_doc(doc: Doc) -> Shipment:
    consignee = Consignee(**doc["consignee"]) if doc.get("consignee") else None
    return Shipment(
        doc["_id"],
        doc["order_id"],
        doc["carrier"],
        doc["mode"],
        doc["tracking_number"],
        doc["status"],
        consignee,
        tuple((ln["sku"], ln["quantity"]) for ln in doc.get("lines") or []),
        doc.get("amount", 0),
        [ShipmentEvent(e["type"], e["at"], e.get("note", "")) for e in doc.get("events") or []],
        bool(doc.get("tombstone")),
        doc.get("version", 0),
    )


class MongoShipmentStore:
    """Load a shipment with its raw document; save domain changes plus staged messages in one write."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        # One booking per order: a redelivered or racing CreateShipment cannot book twice.
        await self.collection.create_index("order_id", unique=True)
        await self.collection.create_index("tracking_number")

    async def by_order(self, order_id: str) -> tuple[Shipment, Doc] | None:
        doc = await self.collection.find_one({"order_id": order_id})
        return (from_doc(doc), doc) if doc else None

    async def get(self, shipment_id: str) -> tuple[Shipment, Doc] | None:
        doc = await self.collection.find_one({"_id": shipment_id})
        return (from_doc(doc), doc) if doc else None

    async def add(self, shipment: Shipment, messages: Sequence[Envelope]) -> Doc:
        """Insert a new shipment (or tombstone); DuplicateKeyError if the order has one already."""
        now = utcnow()
        return await insert_doc(
            self.collection, stage({**to_doc(shipment), "created_at": now, "updated_at": now}, messages)
        )

    async def save(self, shipment: Shipment, loaded: Doc, messages: Sequence[Envelope] = ()) -> Doc:
        """Replace the document read as ``loaded``; ConcurrencyError if someone wrote in between."""
        base = {**loaded, "outbox": dict(loaded.get("outbox") or {})}
        return await replace_doc(
            self.collection, stage({**base, **to_doc(shipment), "updated_at": utcnow()}, messages)
        )
