"""Customers in MongoDB: one document per customer with its per-order credit entries as a map.

The map (``orders.<order_id>``) instead of an array keeps every entry addressable (STORE.md);
the whole document is replaced under optimistic concurrency on ``version``, together with
the reply messages staged in its outbox (shared.store.stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.billing.domain import Customer, OrderCredit, Payment
from shared.aggregates import LastWrites, Loaded
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError
from shared.keys import decode_key, encode_key
from shared.outbox import Outbox
from shared.store import insert_doc, plain, stage

Doc = dict[str, Any]


def to_doc(customer: Customer) -> Doc:
    """The fields billing owns; the outbox and version are the store's."""
    return {
        "_id": customer.customer_id,
        "name": customer.name,
        "payment_terms": customer.payment_terms,
        "credit_limit": customer.credit_limit,
        # Derived, stored so that exposure can be queried and read without the domain.
        "exposure": customer.exposure,
        "orders": {encode_key(oid): _entry_doc(e) for oid, e in customer.orders.items()},
        "payments": {encode_key(ref): plain(p) for ref, p in customer.payments.items()},
    }


def _entry_doc(entry: OrderCredit) -> Doc:
    doc = plain(entry)
    doc["credit_notes"] = {encode_key(rid): amount for rid, amount in entry.credit_notes.items()}
    return doc


def new_doc(customer: Customer) -> Doc:
    now = utcnow()
    return {**to_doc(customer), "created_at": now, "updated_at": now}


def saved_doc(loaded: Loaded[Customer], replies: Sequence[Envelope]) -> Doc:
    """The document read with the customer's fields; messages left over from an earlier write stay
    staged next to ``replies``."""
    return stage({**loaded.doc, **to_doc(loaded.aggregate), "updated_at": utcnow()}, replies)


def from_doc(doc: Doc) -> Customer:
    orders = {}
    for key, raw in (doc.get("orders") or {}).items():
        notes = {decode_key(rid): amount for rid, amount in (raw.get("credit_notes") or {}).items()}
        orders[decode_key(key)] = OrderCredit(**{**raw, "credit_notes": notes})
    payments = {decode_key(key): Payment(**raw) for key, raw in (doc.get("payments") or {}).items()}
    return Customer(
        doc["_id"],
        doc["name"],
        doc["payment_terms"],
        doc["credit_limit"],
        orders,
        payments,
        version=doc.get("version", 0),
    )


class MongoCustomerStore:
    """Load, add and save customers; billing's ``AggregateStore`` (shared.aggregates)."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox
        # A customer is written once per credit check and invoice of each of its orders, one after
        # the other (KeyedLocks): the last write is nearly always still current (shared.aggregates).
        self.written = LastWrites()

    async def create_indexes(self) -> None:
        await self.collection.create_index("exposure")

    async def load(self, customer_id: str) -> Loaded[Customer] | None:
        doc = await self.collection.find_one({"_id": customer_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_cached(self, customer_id: str) -> Loaded[Customer] | None:
        """The customer as this process last wrote it, else from the store (one read less)."""
        doc = self.written.get(customer_id)
        if doc is None:
            return await self.load(customer_id)
        return Loaded(from_doc(doc), doc, cached=True)

    async def add(self, customer: Customer) -> Loaded[Customer]:
        """Insert a new customer; DuplicateKeyError tells a racing PUT."""
        return Loaded(customer, await insert_doc(self.collection, new_doc(customer)))

    async def save(self, loaded: Loaded[Customer], replies: Sequence[Envelope] = ()) -> Loaded[Customer]:
        """Replace the document read; ConcurrencyError if someone wrote in between."""
        try:
            written = await self.outbox.replace(self.collection, saved_doc(loaded, replies))
        except ConcurrencyError:
            self.written.drop(loaded.aggregate.customer_id)
            raise
        self.written.keep(written)
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[Customer]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, customer: Customer) -> Doc:
        return to_doc(customer)
