"""Orders in MongoDB: one document per order holding its saga state, history and outbox.

Every change replaces the whole document under optimistic concurrency (``version``) with the
commands it causes staged in the same write (shared.store.stage): no multi-document
transactions, no sub-document $push (STORE.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.intake.adapters.mapping import PAST_ORDER_FIELDS, Doc, from_doc, past_order, to_fields
from services.intake.domain.order import Order
from services.intake.domain.review import WAITING_HOLDS
from services.intake.domain.screening import PastOrder
from shared.access.principal import customer_query
from shared.aggregates import LastWrites, Loaded
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.store import insert_doc, stage


def fingerprint(order: Order) -> Doc:
    """What the order's document would hold, without the ids of replies it absorbed: a reply that
    changes nothing else must not rewrite the order (and so cannot flush anything again)."""
    fields = to_fields(order)
    fields["saga"] = {k: v for k, v in fields["saga"].items() if k != "processed"}
    return fields


class MongoOrderStore:
    """Load, insert, save and list orders; the order saga's ``AggregateStore`` (shared.aggregates)."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox, remember: int = 1000) -> None:
        self.collection = collection
        self.outbox = outbox
        # The documents of the orders this process wrote last (shared.aggregates: load_cached).
        self.written = LastWrites(remember)

    async def create_indexes(self) -> None:
        # Listing filters by one of these and pages newest first by `seq` (GET /orders).
        await self.collection.create_index([("seq", DESCENDING)])
        for field in ("status", "customer_id", "channel"):
            await self.collection.create_index([(field, ASCENDING), ("seq", DESCENDING)])
        await self.collection.create_index([("created_at", DESCENDING)])
        await self.collection.create_index([("stuck_since", ASCENDING), ("seq", DESCENDING)])
        # The review queue (R2.3): on_hold orders by priority, then age.
        queue = [("status", ASCENDING), ("priority_rank", ASCENDING), ("seq", ASCENDING)]
        await self.collection.create_index(queue)

    async def get(self, order_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": order_id})

    async def load(self, order_id: str) -> Loaded[Order] | None:
        doc = await self.get(order_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_cached(self, order_id: str) -> Loaded[Order] | None:
        """The order as this process last wrote it, else from the store (one read less per reply)."""
        doc = self.written.get(order_id)
        if doc is None:
            return await self.load(order_id)
        return Loaded(from_doc(doc), doc, cached=True)

    async def insert(self, order: Order, commands: Iterable[Envelope], trace: dict[str, str]) -> Doc:
        """Create the order with its first commands; DuplicateKeyError means it already exists."""
        # The placing request's trace is kept so later commands (cancel, approve) join the same trace.
        doc = stage({**to_fields(order), "trace": trace, "updated_at": utcnow()}, commands)
        inserted = await insert_doc(self.collection, doc)
        self.written.keep(inserted)
        return inserted

    async def save(self, loaded: Loaded[Order], commands: Sequence[Envelope] = ()) -> Loaded[Order]:
        """Replace the document read with the order; ConcurrencyError if anyone wrote it since."""
        doc = {**loaded.doc, **to_fields(loaded.aggregate), "updated_at": utcnow()}
        try:  # entries this process published are left out: this write is their clear
            saved = await self.outbox.replace(self.collection, stage(doc, commands))
        except ConcurrencyError:
            self.written.drop(loaded.aggregate.order_id)
            raise
        self.written.keep(saved)
        return Loaded(loaded.aggregate, saved)

    async def flush(self, saved: Loaded[Order]) -> None:
        """Publish what the save staged; its entries are cleared with the next save or batch."""
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, order: Order) -> Doc:
        return fingerprint(order)

    async def page(
        self, filters: dict[str, str], limit: int, before_seq: int | None,
        customers: tuple[str, ...] | None = None, stuck: bool | None = None,
    ) -> list[Doc]:
        """Up to ``limit`` orders matching ``filters`` (status, customer_id, channel), newest first;
        ``customers`` (ids or ``PREFIX*``) restricts them to what a scoped key may see (issue 7);
        ``stuck`` to orders with (True) or without (False) a parked message."""
        query: dict[str, Any] = dict(filters)
        if customers is not None:
            query.update(customer_query(customers))
        if stuck is not None:
            query["stuck_since"] = {"$ne": None} if stuck else None
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self.collection.find(query).sort("seq", DESCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def awaiting_payment(
        self, limit: int, after_seq: int | None, customers: tuple[str, ...] | None = None,
        customer_id: str | None = None, payment_terms: str | None = None,
    ) -> list[Doc]:
        """Orders waiting at a payment gate (R3.2), oldest first, for finance's list."""
        query: dict[str, Any] = {"status": "awaiting_payment"}
        if customers is not None:
            query.update(customer_query(customers))
        if customer_id is not None:
            query["customer_id"] = customer_id
        if payment_terms is not None:
            query["payment_terms"] = payment_terms
        if after_seq is not None:
            query["seq"] = {"$gt": after_seq}
        cursor = self.collection.find(query).sort("seq", ASCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def confirmation_breaches(self, limit: int, customers: tuple[str, ...] | None = None) -> list[Doc]:
        """Orders whose first confirmation was late (R2.4), oldest breach first."""
        query: dict[str, Any] = {"confirmation_breached_at": {"$ne": None}}
        if customers is not None:
            query.update(customer_query(customers))
        oldest = [("confirmation_breached_at", ASCENDING), ("seq", ASCENDING)]
        cursor = self.collection.find(query).sort(oldest)
        return [doc async for doc in cursor.limit(limit)]

    async def review_queue(self, limit: int, claimable_at_ms: int | None = None) -> list[Doc]:
        """Orders waiting for a person (R2.1-R2.3): urgent, key, normal, then oldest first;
        ``claimable_at_ms``: only those nobody holds a claim on at that time."""
        query: dict[str, Any] = {"status": "on_hold", "saga.hold": {"$in": list(WAITING_HOLDS)}}
        if claimable_at_ms is not None:
            query["$or"] = [{"claim_by": None}, {"claim_until_ms": {"$lte": claimable_at_ms}}]
        cursor = self.collection.find(query).sort([("priority_rank", ASCENDING), ("seq", ASCENDING)])
        return [doc async for doc in cursor.limit(limit)]

    async def recent_for_customer(self, customer_id: str, limit: int) -> list[PastOrder]:
        """The customer's latest orders, for the duplicate and usual-volume checks (R1.6)."""
        if limit <= 0:
            return []  # limit(0) would mean "no limit"
        cursor = self.collection.find({"customer_id": customer_id}, PAST_ORDER_FIELDS)
        return [past_order(doc) async for doc in cursor.sort("seq", DESCENDING).limit(limit)]
