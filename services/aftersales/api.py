"""The returns API (API.md): request a return, record the inspection, read returns.

Every route declares its permission (shared.access); who asked and who inspected are the
caller's key name. A storefront or ERP key sees only its customers' returns and orders: any
other is a 404 (issue 7).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from services.aftersales import handlers
from services.aftersales.handlers import Deps
from services.aftersales.ports import ORDER_RETURN_PAGES, RECENT_RETURN_PAGES
from services.aftersales.schemas import InspectionCreate, ReturnCreate, ReturnPublic
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.principal import Principal
from shared.access.roles import Permission as P
from shared.http import ApiError
from shared.service import Context


def get_deps(ctx: Context) -> Deps:
    return ctx.state["deps"]  # type: ignore[no-any-return]


AftersalesDeps = Annotated[Deps, Depends(get_deps)]
router = APIRouter(prefix="/returns", tags=["returns"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, requires(P.RETURNS_READ)]
ReturnId = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("", status_code=201, response_model=ReturnPublic)
async def create_return(
    body: ReturnCreate,
    deps: AftersalesDeps,
    who: Annotated[Principal, requires(P.RETURNS_CREATE)],
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> ReturnPublic:
    """Request a return of shipped goods; refused (422) when it breaks the return policy (R8.3).

    The same ``Idempotency-Key`` and body give back the same return, never a second one.
    """
    ret = await handlers.request_return(
        deps,
        order_id=body.order_id,
        lines=[(line.sku, line.quantity) for line in body.lines],
        reason=body.reason,
        by=who.name,
        # The caller's own keys: another caller's "r-1" is another key (issue 7).
        idempotency_key=f"{who.key_id}:{idempotency_key}" if idempotency_key else None,
        acts_for=who.acts_for,
    )
    return ReturnPublic.of(ret)


@router.post("/{return_id}/inspection", status_code=202, response_model=ReturnPublic)
async def record_inspection(
    return_id: ReturnId, body: InspectionCreate, deps: AftersalesDeps,
    who: Annotated[Principal, requires(P.RETURNS_INSPECT)],
) -> ReturnPublic:
    """Record the inspection on arrival: pass restocks and refunds, fail rejects (409 once decided).
    The inspector is the caller's key."""
    ret = await handlers.inspect_return(
        deps, return_id=return_id, result=body.result, note=body.note, by=who.name
    )
    return ReturnPublic.of(ret)


@router.get("/{return_id}", response_model=ReturnPublic)
async def read_return(return_id: ReturnId, deps: AftersalesDeps, who: Reader) -> ReturnPublic:
    """One return with its lines, refund and history."""
    ret = await handlers.get_return(deps, return_id)
    if not who.acts_for(ret.customer_id):
        raise ApiError(404, "not_found", f"no return {return_id}")
    return ReturnPublic.of(ret)


@router.get("", response_model=list[ReturnPublic], responses=paging.PAGE_HEADERS)
async def list_returns(
    deps: AftersalesDeps,
    request: Request,
    response: Response,
    who: Reader,
    order_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list[ReturnPublic]:
    """The returns of an order (``?order_id=``, in their order), else the most recent ones, a page
    at a time (docs/API.md "Paging"); a storefront's or ERP's pages hold only its customers'."""
    size, mine = paging.page_size(limit, deps.settings.max_page), who.customer_filter()
    keyset = ORDER_RETURN_PAGES if order_id is not None else RECENT_RETURN_PAGES
    after = keyset.parse(cursor)
    if order_id is not None:
        page = await deps.returns.page_of_order(order_id, size, after, mine)
    else:
        page = await deps.returns.recent(size, after, mine)
    paging.link_next(request, response, keyset, page)
    returns = page.items
    return [ReturnPublic.of(ret) for ret in returns if who.acts_for(ret.customer_id)]
