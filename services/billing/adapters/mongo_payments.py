"""Payments received (R3.3), one document per reference: the record of money, never edited."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.billing.domain import Payment
from shared.store import insert_doc

Doc = dict[str, Any]


class MongoPaymentStore:
    """``_id`` is the payment reference, so a repeated POST can never record money twice."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index("order_id")

    async def record(self, payment: Payment, customer_id: str) -> Payment:
        """Insert the payment, or return the one already recorded under its reference."""
        doc = {
            "_id": payment.reference,
            "order_id": payment.order_id,
            "amount": payment.amount,
            "received_at": payment.received_at,
            "customer_id": customer_id,
        }
        try:
            await insert_doc(self.collection, doc)
            return payment
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": payment.reference})
            assert existing is not None
            return Payment(existing["_id"], existing["order_id"], existing["amount"], existing["received_at"])

    async def for_order(self, order_id: str) -> list[Payment]:
        cursor = self.collection.find({"order_id": order_id}).sort("received_at", 1)
        return [Payment(d["_id"], d["order_id"], d["amount"], d["received_at"]) async for d in cursor]
