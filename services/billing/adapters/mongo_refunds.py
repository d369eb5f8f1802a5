"""Refunds as finance works them (R7.1, R6.2): one document per refund entry of an order's account.

The amounts live on the order's account (the entry is written there with the reply that announces
it); this collection is finance's work list, written right after from the account and again by any
repeat of the command, so it is complete once the command is acknowledged. Only ``status`` moves:
``owed`` -> ``paid_out`` with who and when, never back; nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from services.billing.domain import OWED, PAID_OUT, RefundRecord
from shared.errors import ConcurrencyError
from shared.paging import Key, Order, Page, both, find_page, visible_to
from shared.store import plain, replace_doc

Doc = dict[str, Any]
OLDEST_FIRST = Order("created_at")
DUPLICATE_KEY = 11000


def to_doc(record: RefundRecord) -> Doc:
    doc = plain(record)
    doc["_id"] = doc.pop("refund_id")
    return {**doc, "version": 1}


def from_doc(doc: Doc) -> RefundRecord:
    fields = {k: v for k, v in doc.items() if k in RefundRecord.__dataclass_fields__}
    return RefundRecord(refund_id=doc["_id"], **fields)


def page_query(order_id: str | None, status: str | None) -> Doc:
    query: Doc = {}
    if order_id is not None:
        query["order_id"] = order_id
    if status is not None:
        query["status"] = status
    return query


class MongoRefundStore:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        for field in ("created_at", "order_id", "status"):
            await self.collection.create_index(field)

    async def add(self, records: Sequence[RefundRecord]) -> None:
        if not records:
            return
        try:
            await self.collection.insert_many([to_doc(r) for r in records], ordered=False)
        except BulkWriteError as exc:  # those recorded before stay as they are
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def get(self, refund_id: str) -> RefundRecord | None:
        doc = await self.collection.find_one({"_id": refund_id})
        return from_doc(doc) if doc else None

    async def for_order(self, order_id: str) -> list[RefundRecord]:
        cursor = self.collection.find({"order_id": order_id}).sort(OLDEST_FIRST.sort())
        return [from_doc(doc) async for doc in cursor]

    async def page(
        self,
        *,
        order_id: str | None,
        status: str | None,
        limit: int,
        after: Key | None = None,
        customers: tuple[str, ...] | None = None,
    ) -> Page[RefundRecord]:
        query = both(page_query(order_id, status), visible_to(customers))
        return (await find_page(self.collection, query, OLDEST_FIRST, after, limit)).map(from_doc)

    async def pay_out(self, refund_id: str, by: str, at: datetime) -> RefundRecord | None:
        # A replace, not a $set: the embedded store keeps a $set datetime as a string (STORE-NOTES.md).
        for _ in range(5):
            doc = await self.collection.find_one({"_id": refund_id})
            if doc is None or doc.get("status") != OWED:
                return from_doc(doc) if doc else None  # unknown, or paid out before: as it is
            try:
                paid = await replace_doc(
                    self.collection, {**doc, "status": PAID_OUT, "paid_out_by": by, "paid_out_at": at}
                )
            except ConcurrencyError:
                continue
            return from_doc(paid)
        raise ConcurrencyError(f"refund {refund_id} kept changing; try again")
