"""Return receipts: one document per return (R8.3), carrying the ReturnRestocked reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.inventory.domain import ReturnReceipt
from shared.aggregates import Loaded
from shared.envelope import Envelope, utcnow
from shared.outbox import Outbox
from shared.store import insert_doc, stage

Doc = dict[str, Any]


def to_doc(receipt: ReturnReceipt) -> Doc:
    return {
        "_id": receipt.return_id,
        "order_id": receipt.order_id,
        "lines": [{"sku": sku, "quantity": units} for sku, units in receipt.lines.items()],
    }


def from_doc(doc: Doc) -> ReturnReceipt:
    lines = {line["sku"]: line["quantity"] for line in doc["lines"]}
    return ReturnReceipt(doc["_id"], doc["order_id"], lines)


class MongoReturnReceiptStore:
    """Records that a return was restocked; the stock itself is counted per SKU receipt key."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def get(self, return_id: str) -> ReturnReceipt | None:
        doc = await self.collection.find_one({"_id": return_id})
        return from_doc(doc) if doc else None

    async def insert(self, receipt: ReturnReceipt, replies: Sequence[Envelope]) -> Loaded[ReturnReceipt]:
        """Insert with the reply staged; DuplicateKeyError when the return was recorded before."""
        doc = stage({**to_doc(receipt), "created_at": utcnow()}, replies)
        return Loaded(receipt, await insert_doc(self.collection, doc))

    async def flush(self, saved: Loaded[ReturnReceipt]) -> None:
        await self.outbox.flush_deferred(self.collection, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))
