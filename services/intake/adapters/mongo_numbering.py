"""Order-number serials per month (R1.3): one counter document per yyyymm, bumped atomically."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


class MongoOrderNumbers:
    """Hands out serials that never collide, however many requests run at once."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def next_serial(self, month: str) -> int:
        """The next serial of ``month`` (1, 2, ...); a single atomic $inc, so no two callers share one."""
        for _ in range(3):
            try:
                doc = await self.collection.find_one_and_update(
                    {"_id": month}, {"$inc": {"serial": 1}}, upsert=True, return_document=ReturnDocument.AFTER
                )
                assert doc is not None  # upsert with ReturnDocument.AFTER always returns the document
                return int(doc["serial"])
            except DuplicateKeyError:
                # Two first-of-the-month upserts raced to insert; the loser simply increments.
                continue
        raise RuntimeError(f"could not allocate an order number for {month}")
