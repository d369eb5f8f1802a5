"""Return receipts: one document per return (R8.3), carrying the ReturnRestocked reply."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.envelope import Envelope, utcnow
from shared.store import insert_doc, stage

Doc = dict[str, Any]


class MongoReturnReceiptStore:
    """Records that a return was restocked; the stock itself is counted per SKU receipt key."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def get(self, return_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": return_id})

    async def record(
        self, return_id: str, order_id: str, lines: dict[str, int], reply: Envelope
    ) -> Doc | None:
        """Insert with the reply staged; None when the return was recorded before (a duplicate)."""
        doc = {
            "_id": return_id,
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": units} for sku, units in lines.items()],
            "created_at": utcnow(),
        }
        try:
            return await insert_doc(self.collection, stage(doc, [reply]))
        except DuplicateKeyError:
            return None
