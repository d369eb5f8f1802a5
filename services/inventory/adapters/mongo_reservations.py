"""Reservations in MongoDB: one document per order (the business key), with its reply outbox.

Per-SKU maps are stored with encoded keys; the whole document is replaced under optimistic
concurrency (``version``), and the reply rides in the same write (shared.store.stage).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.inventory.adapters.keys import decode_key, encode_key
from services.inventory.domain import Reservation, ReservationStatus
from shared.envelope import Envelope, utcnow
from shared.store import insert_doc, replace_doc, stage

Doc = dict[str, Any]
_MAPS = ("wanted", "held", "receipts", "released", "committed")


def to_fields(reservation: Reservation) -> Doc:
    fields: Doc = {"_id": reservation.order_id, "status": reservation.status.value}
    for name in _MAPS:
        fields[name] = {encode_key(k): v for k, v in getattr(reservation, name).items()}
    # Lines in the order they were wanted; maps do not promise an order on every store.
    fields["skus"] = list(reservation.wanted)
    return fields


def from_doc(doc: Doc) -> Reservation:
    maps = {name: {decode_key(k): v for k, v in (doc.get(name) or {}).items()} for name in _MAPS}
    order = doc.get("skus") or list(maps["wanted"])
    maps["wanted"] = {sku: maps["wanted"][sku] for sku in order if sku in maps["wanted"]}
    return Reservation(order_id=doc["_id"], status=ReservationStatus(doc["status"]),
                       version=doc.get("version", 0), **maps)  # fmt: skip


class MongoReservationStore:
    """Load and save reservations; ``save`` keeps what is still staged in the outbox."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def load(self, order_id: str) -> tuple[Reservation, Doc] | None:
        doc = await self.collection.find_one({"_id": order_id})
        return (from_doc(doc), doc) if doc else None

    async def insert(self, reservation: Reservation, replies: Iterable[Envelope] = ()) -> Doc:
        """Create; DuplicateKeyError means a twin (or the release) got there first."""
        now = utcnow()
        doc = stage({**to_fields(reservation), "created_at": now, "updated_at": now}, replies)
        return await insert_doc(self.collection, doc)

    async def save(self, reservation: Reservation, loaded: Doc, replies: Iterable[Envelope] = ()) -> Doc:
        """Replace the document read as ``loaded``; ConcurrencyError if anyone wrote it since."""
        doc = {**loaded, **to_fields(reservation), "updated_at": utcnow()}
        doc["outbox"] = dict(loaded.get("outbox") or {})
        return await replace_doc(self.collection, stage(doc, replies))
