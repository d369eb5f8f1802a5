"""Inventory HTTP API (API.md): the catalogue and stock counts.

``GET /products?sku=A&sku=B`` is what intake uses to validate orders (R1.5): unknown SKUs
are simply absent from the list. A bundle (R1.9) is checked against the catalogue when it is
put (its components exist and are plain products) and has no stock of its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.inventory.deps import Inventory
from services.inventory.domain import DomainError, check_bundle
from services.inventory.ports import PRODUCT_PAGES
from services.inventory.schemas import (
    ProductPublic,
    ProductPut,
    StockPublic,
    StockPut,
    product_public,
    stock_public,
)
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.roles import Permission as P
from shared.errors import ConcurrencyError
from shared.http import ApiError
from shared.service import Context

SKU = Annotated[str, Path(min_length=1, max_length=100)]


def get_inventory(ctx: Context) -> Inventory:
    return ctx.state["inventory"]  # type: ignore[no-any-return]


Deps = Annotated[Inventory, Depends(get_inventory)]


router = APIRouter(tags=["inventory"], responses=ERROR_RESPONSES)


@router.put("/products/{sku}", response_model=ProductPublic, dependencies=[requires(P.CATALOG_WRITE)])
async def put_product(sku: SKU, body: ProductPut, inv: Deps, response: Response) -> ProductPublic:
    """Create or replace a catalogue entry (price in fen, sourcing make|buy, lead time in days);
    with ``components`` a bundle of existing plain products (R1.9), with ``custom`` made to order (R2.2)."""
    try:
        product = body.product(sku)
        if product.is_bundle:
            parts = await inv.products.get_many(c.sku for c in product.components)
            check_bundle(product, parts, bundles_containing=await inv.products.bundles_containing(sku),
                         stock=await inv.stock.get(sku))  # fmt: skip
    except DomainError as exc:
        raise ApiError(422, exc.code, exc.message, exc.fields) from exc
    if await inv.products.put(product):
        response.status_code = 201
    if not product.is_bundle:  # a bundle's stock is its components' (R1.9)
        await inv.stock.ensure(sku)
    return product_public(product)


@router.get("/products/{sku}", response_model=ProductPublic, dependencies=[requires(P.CATALOG_READ)])
async def get_product(sku: SKU, inv: Deps) -> ProductPublic:
    """One catalogue entry."""
    product = await inv.products.get(sku)
    if product is None:
        raise ApiError(404, "not_found", f"no product {sku}")
    return product_public(product)


@router.get("/products", response_model=list[ProductPublic], dependencies=[requires(P.CATALOG_READ)],
            responses=paging.PAGE_HEADERS)  # fmt: skip
async def list_products(
    inv: Deps,
    request: Request,
    response: Response,
    sku: Annotated[list[str] | None, Query(max_length=1000)] = None,  # intake asks for up to max_lines
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list[ProductPublic]:
    """The products named by ``?sku=`` (unknown ones absent), or a page of the catalogue by SKU
    (docs/API.md "Paging": ``Next-Cursor`` and ``Link`` name the next page)."""
    after = PRODUCT_PAGES.parse(cursor)
    if sku:
        found = await inv.products.get_many(sku)
        return [product_public(found[s]) for s in dict.fromkeys(sku) if s in found]
    page = await inv.products.page(paging.page_size(limit, inv.settings.max_page), after)
    paging.link_next(request, response, PRODUCT_PAGES, page)
    return [product_public(p) for p in page.items]


@router.put("/stock/{sku}", response_model=StockPublic, dependencies=[requires(P.STOCK_WRITE)])
async def put_stock(sku: SKU, body: StockPut, inv: Deps) -> StockPublic:
    """Set a warehouse's counted quantity; refused below what is reserved (R4.1) and for a bundle,
    which has no stock of its own (R1.9: count its components)."""
    product = await inv.products.get(sku)
    if product is None:
        raise ApiError(422, "unknown_product", f"no product {sku}; PUT /products/{sku} first",
                       {"sku": "unknown"})  # fmt: skip
    if product.is_bundle:
        parts = ", ".join(c.sku for c in product.components)
        raise ApiError(422, "bundle_has_no_stock",
                       f"{sku} is a bundle: it has no stock of its own; count its components ({parts})",
                       {"sku": "a bundle"})  # fmt: skip
    try:
        doc = await inv.stock.count(sku, body.warehouse or inv.settings.default_warehouse, body.on_hand)
    except DomainError as exc:
        raise ApiError(422, exc.code, exc.message, exc.fields) from exc
    except ConcurrencyError as exc:
        raise ApiError(409, "conflict", "the stock kept changing; count again") from exc
    return stock_public(sku, doc)


@router.get("/stock/{sku}", response_model=StockPublic, dependencies=[requires(P.STOCK_READ)])
async def get_stock(sku: SKU, inv: Deps) -> StockPublic:
    """On hand, reserved and available, summed over warehouses, with the per-warehouse breakdown."""
    doc = await inv.stock.get(sku)
    if doc is None and await inv.products.get(sku) is None:
        raise ApiError(404, "not_found", f"no product {sku}")
    return stock_public(sku, doc)


@router.get("/picking-notices", dependencies=[requires(P.PACKING_READ)])
async def picking_notices(
    inv: Deps, order_id: Annotated[str, Query(min_length=1, max_length=40)]
) -> list[dict]:
    """The warehouse's picking notice of a confirmed order (R2.5): lines, needed by, priority;
    empty until the customer accepted the order confirmation."""
    return await inv.notices.for_order("picking", order_id)
