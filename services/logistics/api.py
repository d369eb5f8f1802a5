"""Logistics' HTTP contract (API.md): shipments and the carrier's reports about them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from services.logistics.carrier_reports import report_event
from services.logistics.deps import Logistics
from services.logistics.domain import InvalidTransition, Shipment, packing_list
from services.logistics.schemas import CarrierEventCreate, PackingListPublic, ShipmentPublic
from shared import paging
from shared.access.door import ERROR_RESPONSES, requires
from shared.access.roles import Permission as P
from shared.errors import DependencyUnavailable
from shared.http import ApiError
from shared.service import Context

router = APIRouter(tags=["logistics"], responses=ERROR_RESPONSES)
Id = Annotated[str, Path(min_length=1, max_length=200)]


def get_logistics(ctx: Context) -> Logistics:
    return ctx.state["logistics"]  # type: ignore[no-any-return]


Deps = Annotated[Logistics, Depends(get_logistics)]


async def _shipment(logistics: Logistics, shipment_id: str) -> Shipment:
    loaded = await logistics.shipments.load_by_id(shipment_id)
    if loaded is None or loaded.aggregate.tombstone:
        raise ApiError(404, "not_found", f"no shipment {shipment_id}")
    return loaded.aggregate


@router.get("/shipments", response_model=list[ShipmentPublic], dependencies=[requires(P.SHIPMENTS_READ)])
async def list_shipments(
    logistics: Deps,
    order_id: Annotated[str, Query(min_length=1, max_length=200)],
    limit: paging.Limit = paging.DEFAULT_LIMIT,
    cursor: paging.Cursor = None,
) -> list:
    """The shipments of an order (at most one per order), with tracking number and events (R5.2).

    Always one page (docs/API.md "Paging"): ``limit`` is taken like on every list, no
    ``Next-Cursor`` is ever given, so any ``cursor`` is a 422."""
    if cursor is not None:
        raise paging.bad_cursor()
    loaded = await logistics.shipments.load(order_id)
    return [] if loaded is None or loaded.aggregate.tombstone else [ShipmentPublic.of(loaded.aggregate)]


@router.get(
    "/shipments/{shipment_id}", response_model=ShipmentPublic, dependencies=[requires(P.SHIPMENTS_READ)]
)
async def get_shipment(shipment_id: Id, logistics: Deps) -> ShipmentPublic:
    """One shipment with its carrier events."""
    return ShipmentPublic.of(await _shipment(logistics, shipment_id))


@router.get(
    "/shipments/{shipment_id}/packing-list",
    response_model=PackingListPublic,
    dependencies=[requires(P.PACKING_READ)],
)
async def get_packing_list(shipment_id: Id, logistics: Deps) -> PackingListPublic:
    """The packing list that goes with the goods: order number, consignee, address, phone (R5.2).

    The phone is intake's, asked for now (issue 7): 503 when intake cannot be asked, 404 when it
    has no such order; never a list without the phone."""
    shipment = await _shipment(logistics, shipment_id)
    if logistics.phones is None:  # bootstrap always wires intake; a bare test container may not
        raise DependencyUnavailable("logistics has no way to ask intake for the consignee's phone")
    sheet = packing_list(shipment, await logistics.phones.phone(shipment.order_id))
    return PackingListPublic(
        order_id=sheet.order_id,
        shipment_id=sheet.shipment_id,
        carrier=sheet.carrier,
        tracking_number=sheet.tracking_number,
        consignee=sheet.consignee,
        address=sheet.address,
        phone=sheet.phone,
        lines=[{"sku": sku, "quantity": qty} for sku, qty in sheet.lines],
    )


@router.post(
    "/shipments/{shipment_id}/events",
    status_code=202,
    response_model=ShipmentPublic,
    dependencies=[requires(P.SHIPMENTS_REPORT)],
)
async def post_carrier_event(
    shipment_id: Id, body: CarrierEventCreate, logistics: Deps, response: Response
) -> ShipmentPublic:
    """The carrier's report: 202 when recorded, 200 for a repeat, 409 when it does not fit (R5.3, R5.4)."""
    try:
        shipment, recorded = await report_event(logistics, shipment_id, body.type, body.at, body.note)
    except InvalidTransition as exc:  # 409 invalid_transition (shared.http), naming the field
        exc.fields = {"type": body.type}
        raise
    if not recorded:
        response.status_code = 200
    return ShipmentPublic.of(shipment)


@router.get("/booking-requests", dependencies=[requires(P.PACKING_READ)])
async def booking_requests(
    logistics: Deps, order_id: Annotated[str, Query(min_length=1, max_length=40)]
) -> list[dict]:
    """The carrier booking request of a confirmed order (R2.5): carrier and mode by the rules
    (R5.1), consignee, needed by; empty until the customer accepted the order confirmation."""
    return await logistics.notices.for_order("carrier_booking", order_id)
