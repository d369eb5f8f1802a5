"""The returns API (API.md): request a return, record the inspection, read returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from services.aftersales import handlers
from services.aftersales.handlers import Deps
from services.aftersales.schemas import InspectionCreate, ReturnCreate, ReturnPublic
from shared.service import Context


def get_deps(ctx: Context) -> Deps:
    return ctx.state["deps"]  # type: ignore[no-any-return]


AftersalesDeps = Annotated[Deps, Depends(get_deps)]
router = APIRouter(prefix="/returns", tags=["returns"])


@router.post("", status_code=201, response_model=ReturnPublic)
async def create_return(
    body: ReturnCreate,
    deps: AftersalesDeps,
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
        by=body.by,
        idempotency_key=idempotency_key,
    )
    return ReturnPublic.of(ret)


@router.post("/{return_id}/inspection", status_code=202, response_model=ReturnPublic)
async def record_inspection(return_id: str, body: InspectionCreate, deps: AftersalesDeps) -> ReturnPublic:
    """Record the inspection on arrival: pass restocks and refunds, fail rejects (409 once decided)."""
    ret = await handlers.inspect_return(
        deps, return_id=return_id, result=body.result, note=body.note, by=body.by
    )
    return ReturnPublic.of(ret)


@router.get("/{return_id}", response_model=ReturnPublic)
async def read_return(return_id: str, deps: AftersalesDeps) -> ReturnPublic:
    """One return with its lines, refund and history."""
    return ReturnPublic.of(await handlers.get_return(deps, return_id))


@router.get("", response_model=list[ReturnPublic])
async def list_returns(
    deps: AftersalesDeps,
    order_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> list[ReturnPublic]:
    """The returns of an order (``?order_id=``), else the most recent ones."""
    if order_id is not None:
        returns = await deps.returns.for_order(order_id)
    else:
        returns = await deps.returns.recent(min(limit, deps.settings.max_page))
    return [ReturnPublic.of(ret) for ret in returns]
