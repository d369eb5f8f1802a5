"""Reservations in MongoDB: one document per order (the business key), with its reply outbox.

Per-SKU maps are stored with encoded keys; the whole document is replaced under optimistic
concurrency (``version``), and the replies ride in the same write (shared.store.stage).
``adjustments`` (issue 8: change id -> what the change did, lines in order) is absent from the
documents written before order changes, and reads as none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.inventory.domain import Adjustment, Reservation, ReservationStatus, Shortage
from shared.aggregates import LastWrites, Loaded
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError
from shared.keys import decode_key, encode_key
from shared.outbox import Outbox
from shared.store import insert_doc, stage

Doc = dict[str, Any]
_MAPS = ("wanted", "held", "receipts", "released", "committed")


def to_fields(reservation: Reservation) -> Doc:
    fields: Doc = {"_id": reservation.order_id, "status": reservation.status.value}
    for name in _MAPS:
        fields[name] = {encode_key(k): v for k, v in getattr(reservation, name).items()}
    # Lines in the order they were wanted; maps do not promise an order on every store.
    fields["skus"] = list(reservation.wanted)
    fields["adjustments"] = {encode_key(change): _adjustment_doc(done) for change, done in
                             reservation.adjustments.items()}  # fmt: skip
    return fields


def _lines(units: dict[str, int]) -> list[Doc]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in units.items()]


def _adjustment_doc(done: Adjustment) -> Doc:
    missing = [{"sku": s.sku, "quantity": s.quantity, "sourcing": s.sourcing,
                "lead_time_days": s.lead_time_days} for s in done.missing]  # fmt: skip
    return {"released": _lines(done.released), "reserved": _lines(done.reserved), "missing": missing}


def _adjustment(doc: Doc) -> Adjustment:
    def units(name: str) -> dict[str, int]:
        return {line["sku"]: line["quantity"] for line in doc.get(name) or []}

    missing = tuple(Shortage(**line) for line in doc.get("missing") or [])
    return Adjustment(released=units("released"), reserved=units("reserved"), missing=missing)


def from_doc(doc: Doc) -> Reservation:
    maps = {name: {decode_key(k): v for k, v in (doc.get(name) or {}).items()} for name in _MAPS}
    order = doc.get("skus") or list(maps["wanted"])
    maps["wanted"] = {sku: maps["wanted"][sku] for sku in order if sku in maps["wanted"]}
    adjustments = {decode_key(k): _adjustment(v) for k, v in (doc.get("adjustments") or {}).items()}
    return Reservation(order_id=doc["_id"], status=ReservationStatus(doc["status"]),
                       version=doc.get("version", 0), adjustments=adjustments, **maps)  # fmt: skip


def new_doc(reservation: Reservation, replies: Sequence[Envelope]) -> Doc:
    """The document a new reservation is inserted as, its replies staged."""
    now = utcnow()
    return stage({**to_fields(reservation), "created_at": now, "updated_at": now}, replies)


def saved_doc(loaded: Loaded[Reservation], replies: Sequence[Envelope]) -> Doc:
    """The document read, with the reservation's fields and ``replies`` staged next to what is left."""
    return stage({**loaded.doc, **to_fields(loaded.aggregate), "updated_at": utcnow()}, replies)


class MongoReservationStore:
    """Load, insert and save reservations; the inventory's ``AggregateStore`` (shared.aggregates)."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox
        # The reservations this process wrote last (shared.aggregates: load_cached, issue 6 §4):
        # CommitStock and the compensations read the reservation ReserveStock wrote here.
        self.written = LastWrites()

    async def load(self, order_id: str) -> Loaded[Reservation] | None:
        doc = await self.collection.find_one({"_id": order_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_cached(self, order_id: str) -> Loaded[Reservation] | None:
        """The reservation as this process last wrote it, else from the store (one read less)."""
        doc = self.written.get(order_id)
        if doc is None:
            return await self.load(order_id)
        return Loaded(from_doc(doc), doc, cached=True)

    async def insert(self, reservation: Reservation, replies: Sequence[Envelope] = ()) -> Loaded[Reservation]:
        """Create; DuplicateKeyError means a twin (or the release) got there first."""
        inserted = await insert_doc(self.collection, new_doc(reservation, replies))
        self.written.keep(inserted)
        return Loaded(reservation, inserted)

    async def save(
        self, loaded: Loaded[Reservation], replies: Sequence[Envelope] = ()
    ) -> Loaded[Reservation]:
        """Replace the document read; ConcurrencyError if anyone wrote it since."""
        try:
            written = await self.outbox.replace(self.collection, saved_doc(loaded, replies))
        except ConcurrencyError:
            self.written.drop(loaded.aggregate.order_id)  # another writer: read it fresh next time
            raise
        self.written.keep(written)
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[Reservation]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, reservation: Reservation) -> Doc:
        return to_fields(reservation)
