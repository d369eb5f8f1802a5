"""Shipments in MongoDB: one document per order (unique ``order_id``), replaced whole.

Carrier events are a list inside the document, written by whole-document replace under
optimistic concurrency on ``version`` - never ``$push`` of sub-documents (STORE.md). The messages
a change causes ride in the same write (shared.store.stage) until the outbox has published them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.logistics.domain import Consignee, Shipment, ShipmentEvent
from shared.aggregates import Loaded
from shared.envelope import Envelope, utcnow
from shared.outbox import Outbox
from shared.store import insert_doc, stage

Doc = dict[str, Any]
log = logging.getLogger(__name__)


def to_doc(s: Shipment) -> Doc:
    consignee = None if s.consignee is None else {"name": s.consignee.name, "address": s.consignee.address}
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
        "bookings": list(s.bookings),
        "held_by": s.held_by,
    }


def from_doc(doc: Doc) -> Shipment:
    raw = doc.get("consignee")
    # Shipments booked before issue 7 also hold a phone: not read, and gone with the next write.
    consignee = Consignee(raw["name"], raw["address"]) if raw else None
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
        # Shipments stored before issue 8 (R7.2) have neither: booked once, under "", never held.
        bookings=tuple(doc.get("bookings") or [""]),
        held_by=doc.get("held_by"),
    )


def new_doc(shipment: Shipment, envelopes: Sequence[Envelope]) -> Doc:
    now = utcnow()
    return stage({**to_doc(shipment), "created_at": now, "updated_at": now}, envelopes)


def changed_doc(loaded: Loaded[Shipment], envelopes: Sequence[Envelope]) -> Doc:
    """The document read, with the shipment's fields and the new messages (earlier entries stay)."""
    return stage({**loaded.doc, **to_doc(loaded.aggregate), "updated_at": utcnow()}, envelopes)


class MongoShipmentStore:
    """Logistics' ``ShipmentStore`` (services/logistics/ports.py) on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def create_indexes(self) -> None:
        # One booking per order: a redelivered or racing CreateShipment cannot book twice.
        await self.collection.create_index("order_id", unique=True)
        await self.collection.create_index("tracking_number")

    async def forget_phones(self) -> int:
        """Remove the consignee phones shipments booked before issue 7 kept (intake owns the phone
        now); run at start-up, a no-op once done. No version bump: a writer that read such a
        document writes its consignee without the phone all the same (``to_doc``)."""
        result = await self.collection.update_many(
            {"consignee.phone": {"$exists": True}}, {"$unset": {"consignee.phone": ""}}
        )
        if result.modified_count:
            log.info("removed stored consignee phones", extra={"count": result.modified_count})
        return result.modified_count

    async def load(self, order_id: str) -> Loaded[Shipment] | None:
        doc = await self.collection.find_one({"order_id": order_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_by_id(self, shipment_id: str) -> Loaded[Shipment] | None:
        doc = await self.collection.find_one({"_id": shipment_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, shipment: Shipment, envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return Loaded(shipment, await insert_doc(self.collection, new_doc(shipment, envelopes)))

    async def save(self, loaded: Loaded[Shipment], envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        """Replace the document read; ConcurrencyError if anyone wrote it since."""
        written = await self.outbox.replace(self.collection, changed_doc(loaded, envelopes))
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[Shipment]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, aggregate: Shipment) -> Doc:
        return to_doc(aggregate)
