"""Idempotency keys of POST /orders: ``_id`` = the client's key, the body's hash, the order it made.

The claim is one insert on a unique ``_id``, so of two racing requests with one key exactly one
wins; the other reads the winner's claim and answers with the winner's order.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.envelope import utcnow

Doc = dict[str, Any]


class MongoIdempotencyKeys:
    """Claims of idempotency keys; a claim is never changed once made."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key})

    async def claim(self, key: str, body_hash: str, order_id: str) -> Doc:
        """Bind ``key`` to ``order_id``; returns the claim that holds the key (ours, or the winner's)."""
        doc = {"_id": key, "body_hash": body_hash, "order_id": order_id, "claimed_at": utcnow()}
        try:
            await self.collection.insert_one(doc)
            return doc
        except DuplicateKeyError:
            existing = await self.get(key)
            assert existing is not None, "a claim is never removed"
            return existing
