"""Order accounts in MongoDB: one document per order (issue 5, replacing the per-customer map).

Payments, refunds, credit notes and the answers to order changes are maps keyed by their ids
(encoded for dotted paths, STORE.md; a document written before order changes has none and reads
as none), the whole document is replaced under optimistic concurrency on ``version`` with the
replies its change causes staged in its outbox (shared.store.stage). ``held``, ``receivable`` and
``exposure`` are derived and stored so that a customer's open orders can be listed by a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from services.billing.domain import CreditChange, OrderAccount, Payment, Refund
from shared.aggregates import LastWrites, Loaded
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError
from shared.keys import decode_key, encode_key
from shared.outbox import Outbox
from shared.store import insert_doc, plain, stage

Doc = dict[str, Any]
SCALARS = (
    "customer_id",
    "payment_terms",
    "currency",
    "total",
    "state",
    "requested",
    "forced",
    "answer",
    "answer_amount",
    "answer_exposure",
    "answer_limit",
    "answer_reason",
    "released",
    "seq",
    "invoice_id",
    "invoiced",
    "closed",
    "adjusting",
    "adjusting_from",
)


def to_doc(account: OrderAccount) -> Doc:
    """The fields billing owns; the outbox, version and timestamps are the store's."""
    return {
        "_id": account.order_id,
        **{name: getattr(account, name) for name in SCALARS},
        "payments": {encode_key(ref): plain(p) for ref, p in account.payments.items()},
        "refunds": {encode_key(rid): plain(r) for rid, r in account.refunds.items()},
        "credit_notes": {encode_key(rid): amount for rid, amount in account.credit_notes.items()},
        "closing_refunds": list(account.closing_refunds),
        "changes": {encode_key(cid): plain(answer) for cid, answer in account.changes.items()},
        # Derived, stored for queries (a customer's open orders) and for readers without the domain.
        "held": account.held,
        "receivable": account.receivable,
        "exposure": account.held + account.receivable,
        "paid_total": account.paid_total,
    }


def from_doc(doc: Doc) -> OrderAccount:
    return OrderAccount(
        doc["_id"],
        **{name: doc[name] for name in SCALARS if name in doc},
        payments={decode_key(k): Payment(**raw) for k, raw in (doc.get("payments") or {}).items()},
        refunds={decode_key(k): Refund(**raw) for k, raw in (doc.get("refunds") or {}).items()},
        credit_notes={decode_key(k): amount for k, amount in (doc.get("credit_notes") or {}).items()},
        closing_refunds=list(doc.get("closing_refunds") or []),
        changes={decode_key(k): CreditChange(**raw) for k, raw in (doc.get("changes") or {}).items()},
        version=doc.get("version", 0),
    )


def new_doc(account: OrderAccount, replies: Sequence[Envelope] = ()) -> Doc:
    now = utcnow()
    return stage({**to_doc(account), "created_at": now, "updated_at": now}, replies)


def saved_doc(loaded: Loaded[OrderAccount], replies: Sequence[Envelope]) -> Doc:
    """The document read with the account's fields; entries left by an earlier write stay staged."""
    return stage({**loaded.doc, **to_doc(loaded.aggregate), "updated_at": utcnow()}, replies)


class MongoOrderAccountStore:
    """Billing's ``OrderAccountStore``: an ``AggregateStore`` (shared.aggregates) of order accounts."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox
        # An order is written a few times in a row by this process (check, answer; invoice, payment).
        self.written = LastWrites()

    async def create_indexes(self) -> None:
        await self.collection.create_index([("customer_id", ASCENDING), ("exposure", ASCENDING)])

    async def load(self, order_id: str) -> Loaded[OrderAccount] | None:
        doc = await self.collection.find_one({"_id": order_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_cached(self, order_id: str) -> Loaded[OrderAccount] | None:
        """The account as this process last wrote it, else from the store (one read less)."""
        doc = self.written.get(order_id)
        if doc is None:
            return await self.load(order_id)
        return Loaded(from_doc(doc), doc, cached=True)

    async def add(self, account: OrderAccount, replies: Sequence[Envelope] = ()) -> Loaded[OrderAccount]:
        doc = await insert_doc(self.collection, new_doc(account, replies))
        self.written.keep(doc)
        return Loaded(account, doc)

    async def save(
        self, loaded: Loaded[OrderAccount], replies: Sequence[Envelope] = ()
    ) -> Loaded[OrderAccount]:
        try:
            written = await self.outbox.replace(self.collection, saved_doc(loaded, replies))
        except ConcurrencyError:
            self.written.drop(loaded.aggregate.order_id)
            raise
        self.written.keep(written)
        return Loaded(loaded.aggregate, written)

    async def flush(self, saved: Loaded[OrderAccount]) -> None:
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, account: OrderAccount) -> Doc:
        return to_doc(account)

    async def open_for_customer(self, customer_id: str, limit: int) -> list[OrderAccount]:
        if limit <= 0:
            return []  # a limit of 0 means none to MongoDB
        query = {"customer_id": customer_id, "exposure": {"$gt": 0}}
        cursor = self.collection.find(query).sort("created_at", ASCENDING).limit(limit)
        return [from_doc(doc) async for doc in cursor]
