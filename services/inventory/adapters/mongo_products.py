"""The catalogue in MongoDB: one document per SKU, ``_id`` = sku."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.inventory.domain import Product
from shared.envelope import utcnow
from shared.paging import Key, Order, Page, find_page

Doc = dict[str, Any]
BY_SKU = Order("_id")


def to_doc(product: Product) -> Doc:
    return {
        "_id": product.sku,
        "name": product.name,
        "unit_price": product.unit_price,
        "sourcing": product.sourcing,
        "lead_time_days": product.lead_time_days,
        "tracking": product.tracking,
    }


def from_doc(doc: Doc) -> Product:
    return Product(
        sku=doc["_id"],
        name=doc["name"],
        unit_price=doc["unit_price"],
        sourcing=doc["sourcing"],
        lead_time_days=doc["lead_time_days"],
        tracking=doc.get("tracking", "none"),
    )


class MongoProductStore:
    """Products by SKU; a PUT replaces the entry (the catalogue is master data, last write wins)."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def put(self, product: Product) -> bool:
        """Create or replace; True when the SKU is new."""
        result = await self.collection.replace_one(
            {"_id": product.sku}, {**to_doc(product), "updated_at": utcnow()}, upsert=True
        )
        return result.upserted_id is not None

    async def get(self, sku: str) -> Product | None:
        doc = await self.collection.find_one({"_id": sku})
        return from_doc(doc) if doc else None

    async def get_many(self, skus: Iterable[str]) -> dict[str, Product]:
        """The known ones among ``skus``; unknown SKUs are simply absent."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        return {doc["_id"]: from_doc(doc) async for doc in self.collection.find({"_id": {"$in": wanted}})}

    async def page(self, limit: int, after: Key | None = None) -> Page[Product]:
        return (await find_page(self.collection, {}, BY_SKU, after, limit)).map(from_doc)
