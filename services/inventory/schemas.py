"""Request and response schemas of inventory's HTTP API (API.md): products and stock counts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.inventory.adapters.mongo_stock import from_doc
from services.inventory.domain import Product
from shared.bounds import Count, LeadTimeDays, Money
from shared.schemas import RequestModel

# Warehouse names become map keys in the stock document; keep them plain.
WAREHOUSE = r"^[A-Za-z0-9_\-]{1,50}$"


class ProductPut(RequestModel):
    """``PUT /products/{sku}``; bounded so that no lead time or price can poison the saga (issue 7)."""

    name: str = Field(min_length=1, max_length=200)
    unit_price: Money
    sourcing: Literal["make", "buy"]
    lead_time_days: LeadTimeDays
    tracking: Literal["none", "batch", "serial"] = "none"


class ProductPublic(BaseModel):
    """A catalogue entry as stored (a product stored before the bounds may exceed them)."""

    sku: str
    name: str
    unit_price: int = Field(description="fen")
    sourcing: Literal["make", "buy"]
    lead_time_days: int
    tracking: Literal["none", "batch", "serial"] = "none"


class StockPut(RequestModel):
    """``PUT /stock/{sku}``: the counted quantity; ``reserved`` and ``available`` are the server's."""

    on_hand: Count
    warehouse: str | None = Field(None, pattern=WAREHOUSE)


class WarehousePublic(BaseModel):
    on_hand: int


class StockPublic(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    available: int
    warehouses: dict[str, WarehousePublic]


def product_public(product: Product) -> ProductPublic:
    return ProductPublic(sku=product.sku, name=product.name, unit_price=product.unit_price,
                         sourcing=product.sourcing, lead_time_days=product.lead_time_days,
                         tracking=product.tracking)  # fmt: skip


def stock_public(sku: str, doc: dict[str, Any] | None) -> StockPublic:
    """The stored counters (what reservations test against) plus the warehouse breakdown."""
    doc = doc or {"_id": sku, "on_hand": 0, "reserved": 0, "available": 0}
    warehouses = {name: WarehousePublic(on_hand=n) for name, n in sorted(from_doc(doc).warehouses.items())}
    return StockPublic(sku=sku, on_hand=doc["on_hand"], reserved=doc["reserved"], available=doc["available"],
                       warehouses=warehouses)  # fmt: skip
