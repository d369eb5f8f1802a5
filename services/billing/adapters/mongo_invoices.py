"""Invoices and credit notes in MongoDB: one immutable document each (R6.2), numbered by month.

``key`` is unique: ``invoice:<order_id>`` or ``credit_note:<return_id>``, so a redelivered
command or a racing replica can never write a second document for the same business event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from services.billing.domain import Invoice, InvoiceLine, document_number, period_of
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.outbox import Outbox
from shared.paging import Key, Order, Page, both, find_page, visible_to
from shared.store import insert_doc, plain, stage

Doc = dict[str, Any]
OLDEST_FIRST = Order("issued_at")


def page_query(order_id: str | None, customer_id: str | None) -> Doc:
    """An order's documents, or else a customer's."""
    return {"order_id": order_id} if order_id is not None else {"customer_id": customer_id}


def invoice_key(order_id: str) -> str:
    return f"invoice:{order_id}"


def credit_note_key(return_id: str) -> str:
    return f"credit_note:{return_id}"


def to_doc(invoice: Invoice) -> Doc:
    doc = plain(invoice)
    doc["_id"] = doc.pop("invoice_id")
    doc["key"] = (
        invoice_key(invoice.order_id)
        if invoice.kind == "invoice"
        else credit_note_key(invoice.return_id or "")
    )
    return doc


def from_doc(doc: Doc) -> Invoice:
    fields = {k: v for k, v in doc.items() if k in Invoice.__dataclass_fields__}
    fields["lines"] = tuple(InvoiceLine(**line) for line in doc["lines"])
    return Invoice(invoice_id=doc["_id"], **fields)


class MongoInvoiceStore:
    """Documents are inserted once and never rewritten; only the outbox clears their staged reply."""

    def __init__(
        self, collection: AsyncCollection[Doc], counters: AsyncCollection[Doc], outbox: Outbox
    ) -> None:
        self.collection = collection
        self.counters = counters
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.collection.create_index("key", unique=True)
        await self.collection.create_index([("order_id", ASCENDING), ("issued_at", ASCENDING)])
        await self.collection.create_index([("customer_id", ASCENDING), ("issued_at", ASCENDING)])

    async def by_key(self, key: str) -> Invoice | None:
        """The document of a business event (``invoice_key``, ``credit_note_key``), if written."""
        doc = await self.collection.find_one({"key": key})
        return from_doc(doc) if doc else None

    async def for_order(self, order_id: str, limit: int = 500) -> list[Invoice]:
        cursor = self.collection.find({"order_id": order_id}).sort("issued_at", ASCENDING).limit(limit)
        return [from_doc(doc) async for doc in cursor]

    async def for_customer(self, customer_id: str, limit: int = 500) -> list[Invoice]:
        cursor = self.collection.find({"customer_id": customer_id}).sort("issued_at", ASCENDING).limit(limit)
        return [from_doc(doc) async for doc in cursor]

    async def page(
        self,
        *,
        order_id: str | None = None,
        customer_id: str | None = None,
        limit: int,
        after: Key | None = None,
        customers: tuple[str, ...] | None = None,
    ) -> Page[Invoice]:
        query = both(page_query(order_id, customer_id), visible_to(customers))
        return (await find_page(self.collection, query, OLDEST_FIRST, after, limit)).map(from_doc)

    async def get(self, invoice_id: str) -> Invoice | None:
        doc = await self.collection.find_one({"_id": invoice_id})
        return from_doc(doc) if doc else None

    async def next_number(self, prefix: str, at: datetime) -> str:
        """``INV202405001``: an atomic per-month counter, distinct under concurrency (R1.3 pattern)."""
        counter = await self.counters.find_one_and_update(
            {"_id": f"{prefix}{period_of(at)}"},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None
        return document_number(prefix, at, counter["seq"])

    async def add(self, invoice: Invoice, replies: Sequence[Envelope]) -> Loaded[Invoice]:
        """Insert with its reply staged; DuplicateKeyError if the business key is taken."""
        return Loaded(invoice, await insert_doc(self.collection, stage(to_doc(invoice), replies)))

    async def flush(self, saved: Loaded[Invoice]) -> None:
        """Publish the reply the insert staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))
