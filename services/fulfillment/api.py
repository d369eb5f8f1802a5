"""Fulfillment HTTP API (API.md): production and purchase orders raised for shortages (R4.2)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.fulfillment.completion import SupplyOrderNotFound, complete_supply, start_production
from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import NotProduction, SupplyOrderCancelled, SupplyOrderCompleted
from services.fulfillment.ports import SUPPLY_ORDER_PAGES
from services.fulfillment.schemas import SupplyOrderPublic, public
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.principal import Principal
from shared.access.roles import Permission as P
from shared.errors import ConcurrencyError
from shared.http import ApiError
from shared.service import Context


def get_fulfillment(ctx: Context) -> Fulfillment:
    return ctx.state["fulfillment"]  # type: ignore[no-any-return]


Deps = Annotated[Fulfillment, Depends(get_fulfillment)]


SupplyOrderId = Annotated[str, Path(min_length=1, max_length=100)]
router = APIRouter(prefix="/supply-orders", tags=["fulfillment"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[SupplyOrderPublic], dependencies=[requires(P.SUPPLY_READ)],
            responses=paging.PAGE_HEADERS)  # fmt: skip
async def list_supply_orders(
    ful: Deps,
    request: Request,
    response: Response,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Literal["open", "completed", "cancelled"] | None = None,
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list[SupplyOrderPublic]:
    """The supply orders of one order (``?order_id=``, oldest first), or the open ones oldest first,
    or the newest ones, optionally by status; a page at a time (docs/API.md "Paging")."""
    after = SUPPLY_ORDER_PAGES.parse(cursor)
    size = paging.page_size(limit, ful.settings.max_page)
    page = await ful.supply_orders.page(order_id=order_id, status=status, limit=size, after=after)
    paging.link_next(request, response, SUPPLY_ORDER_PAGES, page)
    return [public(o) for o in page.items]


@router.get("/{supply_order_id}", response_model=SupplyOrderPublic, dependencies=[requires(P.SUPPLY_READ)])
async def get_supply_order(supply_order_id: SupplyOrderId, ful: Deps) -> SupplyOrderPublic:
    """One supply order."""
    loaded = await ful.supply_orders.load(supply_order_id)
    if loaded is None:
        raise ApiError(404, "not_found", f"no supply order {supply_order_id}")
    return public(loaded.aggregate)


@router.post(
    "/{supply_order_id}/complete",
    response_model=SupplyOrderPublic,
    dependencies=[requires(P.SUPPLY_COMPLETE)],
)
async def complete_supply_order(supply_order_id: SupplyOrderId, ful: Deps) -> SupplyOrderPublic:
    """Production finished or goods received: stock goes up and the waiting order continues."""
    try:
        return public(await complete_supply(supply_order_id, ful))
    except SupplyOrderNotFound as exc:
        raise ApiError(404, "not_found", f"no supply order {supply_order_id}") from exc
    except SupplyOrderCancelled as exc:
        raise ApiError(409, exc.code, exc.message) from exc
    except ConcurrencyError as exc:
        raise ApiError(409, "conflict", "the supply order kept changing; try again") from exc


@router.post("/{supply_order_id}/start", response_model=SupplyOrderPublic)
async def start_supply_order(
    supply_order_id: SupplyOrderId, ful: Deps, who: Annotated[Principal, requires(P.SUPPLY_COMPLETE)]
) -> SupplyOrderPublic:
    """Production of a production order began (R7.2): an order change can no longer change it.
    Who started it is the caller's key; a repeat answers the same and changes nothing."""
    try:
        return public(await start_production(supply_order_id, who.name, ful))
    except SupplyOrderNotFound as exc:
        raise ApiError(404, "not_found", f"no supply order {supply_order_id}") from exc
    except (NotProduction, SupplyOrderCancelled, SupplyOrderCompleted) as exc:
        raise ApiError(409, exc.code, exc.message) from exc
    except ConcurrencyError as exc:
        raise ApiError(409, "conflict", "the supply order kept changing; try again") from exc
