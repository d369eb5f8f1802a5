"""Request and response schemas of inventory's HTTP API (API.md): products and stock counts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from services.inventory.adapters.mongo_stock import from_doc
from services.inventory.domain import Component, Product
from shared.bounds import Count, LeadTimeDays, Money, Quantity
from shared.schemas import RequestModel

# Warehouse names become map keys in the stock document; keep them plain.
WAREHOUSE = r"^[A-Za-z0-9_\-]{1,50}$"
MAX_COMPONENTS = 100  # parts of one bundle


class ComponentIn(RequestModel):
    """One part of a bundle (R1.9): units of a plain product per bundle."""

    sku: str = Field(min_length=1, max_length=100)
    quantity: Quantity


class ComponentPublic(BaseModel):
    sku: str
    quantity: int = Field(description="units of the component per unit of the bundle")


class ProductPut(RequestModel):
    """``PUT /products/{sku}``; bounded so that no lead time or price can poison the saga (issue 7)."""

    name: str = Field(min_length=1, max_length=200)
    unit_price: Money
    sourcing: Literal["make", "buy"]
    lead_time_days: LeadTimeDays
    tracking: Literal["none", "batch", "serial"] = "none"
    custom: bool = Field(False, description="made to order: an order of it needs a manager's approval (R2.2)")
    components: list[ComponentIn] = Field(
        default_factory=list,
        max_length=MAX_COMPONENTS,
        description="a bundle's parts (R1.9): existing plain products, each once, not the bundle itself; "
        "empty for a plain product",
    )

    def product(self, sku: str) -> Product:
        """The catalogue entry this body describes (the domain's rules are checked on creation)."""
        fields = self.model_dump(exclude={"components"})
        parts = tuple(Component(c.sku, c.quantity) for c in self.components)
        return Product(sku=sku, **fields, components=parts)


class ProductPublic(BaseModel):
    """A catalogue entry as stored (a product stored before the bounds may exceed them)."""

    sku: str
    name: str
    unit_price: int = Field(description="fen")
    sourcing: Literal["make", "buy"]
    lead_time_days: int
    tracking: Literal["none", "batch", "serial"] = "none"
    custom: bool = False
    components: list[ComponentPublic] = Field(default_factory=list, description="a bundle's parts (R1.9)")


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
                         tracking=product.tracking, custom=product.custom,
                         components=[ComponentPublic(sku=c.sku, quantity=c.quantity)
                                     for c in product.components])  # fmt: skip


def stock_public(sku: str, doc: dict[str, Any] | None) -> StockPublic:
    """The stored counters (what reservations test against) plus the warehouse breakdown."""
    doc = doc or {"_id": sku, "on_hand": 0, "reserved": 0, "available": 0}
    warehouses = {name: WarehousePublic(on_hand=n) for name, n in sorted(from_doc(doc).warehouses.items())}
    return StockPublic(sku=sku, on_hand=doc["on_hand"], reserved=doc["reserved"], available=doc["available"],
                       warehouses=warehouses)  # fmt: skip
