"""Which customer an order's credit belongs to, and whether it was released (a tombstone).

ReleaseCredit and POST /payments carry only the order id, so billing keeps one small
document per order. Reserve and release both go through it with single-document atomic
writes (an insert that only one writer wins, a conditional update), so a release that
overtakes its reserve is seen by the reserve, whichever comes first.

Plain insert + update instead of an upsert with ``$setOnInsert``: the embedded store
ignores ``$setOnInsert`` and turns ``$set`` booleans into 0/1 (measured with nx-27017
0.8.1), so the state is a string and the insert carries the whole new document.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.envelope import utcnow
from shared.store import insert_doc

Doc = dict[str, Any]
LINKED, RELEASED = "linked", "released"


class MongoOrderLinkStore:
    """``{_id: order_id, customer_id, state: linked|released, version}``."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def get(self, order_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": order_id})

    async def claim(self, order_id: str, customer_id: str) -> Doc:
        """Link the order to the customer unless it is linked or released already; returns the link."""
        try:
            return await insert_doc(
                self.collection,
                {"_id": order_id, "customer_id": customer_id, "state": LINKED, "created_at": utcnow()},
            )
        except DuplicateKeyError:
            doc = await self.get(order_id)
            assert doc is not None
            return doc

    async def release(self, order_id: str) -> Doc:
        """Mark the order released; a link created here (no customer) is a tombstone."""
        for _ in range(3):
            doc = await self.collection.find_one_and_update(
                {"_id": order_id, "state": LINKED},
                {"$set": {"state": RELEASED}, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None or (doc := await self.get(order_id)) is not None:
                return doc  # released now, or before (a duplicate ReleaseCredit writes nothing)
            try:
                return await insert_doc(
                    self.collection,
                    {"_id": order_id, "customer_id": None, "state": RELEASED, "created_at": utcnow()},
                )
            except DuplicateKeyError:
                continue  # the reserve linked it in between: mark that link released
        raise RuntimeError(f"could not release the credit link of {order_id}")


def is_released(link: Doc) -> bool:
    return link.get("state") == RELEASED
