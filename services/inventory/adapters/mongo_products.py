"""The catalogue in MongoDB: one document per SKU, ``_id`` = sku.

A bundle's components are a list of ``{sku, quantity}`` (a SKU is never a field name); products
stored before ``custom`` and ``components`` existed read as plain, not custom (R1.9, R2.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from services.inventory.domain import Component, Product
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
        "custom": product.custom,
        "components": [{"sku": c.sku, "quantity": c.quantity} for c in product.components],
    }


def from_doc(doc: Doc) -> Product:
    return Product(
        sku=doc["_id"],
        name=doc["name"],
        unit_price=doc["unit_price"],
        sourcing=doc["sourcing"],
        lead_time_days=doc["lead_time_days"],
        tracking=doc.get("tracking", "none"),
        custom=bool(doc.get("custom", False)),
        components=tuple(Component(c["sku"], c["quantity"]) for c in doc.get("components") or ()),
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

    async def bundles_containing(self, sku: str) -> list[str]:
        """The SKUs of the bundles that list ``sku`` as a component (R1.9: bundles do not nest)."""
        cursor = self.collection.find({"components.sku": sku}, {"_id": 1}).sort("_id", 1)
        return [doc["_id"] async for doc in cursor]

    async def page(self, limit: int, after: Key | None = None) -> Page[Product]:
        return (await find_page(self.collection, {}, BY_SKU, after, limit)).map(from_doc)
