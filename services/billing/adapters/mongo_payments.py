"""Payment references (R3.3), one document per reference over every order: the first use claims it.

``{_id: reference, order_id, customer_id, amount, currency, by, received_at, state}``; ``state`` is
``claimed`` or ``refused`` (the order refused the payment, so the reference is free again). The
payment itself is recorded on the order's account; this is what makes a reference unique across
orders, so one bank slip can never pay two orders.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.billing.domain import Payment
from shared.store import insert_doc

Doc = dict[str, Any]
CLAIMED, REFUSED = "claimed", "refused"


def to_doc(payment: Payment, customer_id: str | None) -> Doc:
    return {
        "_id": payment.reference,
        "order_id": payment.order_id,
        "customer_id": customer_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "by": payment.by,
        "received_at": payment.received_at,
        "state": CLAIMED,
    }


def from_doc(doc: Doc) -> Payment:
    return Payment(
        doc["_id"],
        doc["order_id"],
        doc["amount"],
        doc["received_at"],
        doc.get("currency", "CNY"),
        doc.get("by", ""),
    )


class MongoPaymentStore:
    """``_id`` is the payment reference, so a repeated POST can never record money twice."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index("order_id")

    async def claim(self, payment: Payment, customer_id: str | None) -> Payment:
        for _ in range(3):
            try:
                await insert_doc(self.collection, to_doc(payment, customer_id))
                return payment
            except DuplicateKeyError:
                pass
            fresh = {k: v for k, v in to_doc(payment, customer_id).items() if k != "_id"}
            doc = await self.collection.find_one_and_update(
                {"_id": payment.reference, "state": REFUSED},
                {"$set": fresh, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return from_doc(doc)  # the refused payment's reference, claimed anew
            doc = await self.collection.find_one({"_id": payment.reference})
            if doc is not None:
                return from_doc(doc)
        raise RuntimeError(f"could not claim payment reference {payment.reference}")

    async def refuse(self, payment: Payment) -> None:
        await self.collection.update_one(
            {
                "_id": payment.reference,
                "order_id": payment.order_id,
                "amount": payment.amount,
                "state": CLAIMED,
            },
            {"$set": {"state": REFUSED}, "$inc": {"version": 1}},
        )

    async def for_order(self, order_id: str) -> list[Payment]:
        cursor = self.collection.find({"order_id": order_id, "state": CLAIMED}).sort("received_at", 1)
        return [from_doc(d) async for d in cursor]
