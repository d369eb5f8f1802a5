"""Notices a service keeps when it is told about an order it will work on later (R2.5): finance's
(amount, payment terms, invoice type), the warehouse's picking notice, logistics' carrier booking
request. One document per (kind, order), written once: a redelivered message changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]
NOTICES_COLLECTION = "notices"


class Notices(Protocol):
    async def record(self, kind: str, order_id: str, body: Doc, at: datetime) -> bool: ...

    async def for_order(self, kind: str, order_id: str) -> list[Doc]: ...


class MongoNotices:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index([("order_id", ASCENDING)])

    async def record(self, kind: str, order_id: str, body: Doc, at: datetime) -> bool:
        """Keep the notice once; False when it was kept before (a duplicate delivery)."""
        try:
            await self.collection.insert_one({"_id": f"{kind}:{order_id}", "kind": kind, "order_id": order_id,
                                              "received_at": at, **body})  # fmt: skip
        except DuplicateKeyError:
            return False
        return True

    async def for_order(self, kind: str, order_id: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"kind": kind, "order_id": order_id}, {"_id": 0})]


class FakeNotices:
    """In-memory notices for handler tests (the same behaviour as MongoNotices)."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}

    async def record(self, kind: str, order_id: str, body: Doc, at: datetime) -> bool:
        key = f"{kind}:{order_id}"
        if key in self.docs:
            return False
        self.docs[key] = {"kind": kind, "order_id": order_id, "received_at": at, **body}
        return True

    async def for_order(self, kind: str, order_id: str) -> list[Doc]:
        return [dict(d) for d in self.docs.values() if d["kind"] == kind and d["order_id"] == order_id]
