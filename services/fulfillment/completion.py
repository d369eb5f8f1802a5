"""The factory's side (HTTP): production of a supply order began (R7.2), or it is done,
production finished or goods received (R4.2).

SupplyCompleted is staged in the supply order's own document and continues the order's trace.
Starting sends nothing: it is read by CheckSupplyChange and ChangeSupply (changes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import propagate, trace

from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import SupplyOrder
from services.fulfillment.domain.errors import SupplyOrderNotFound
from services.fulfillment.handlers import now_ms
from shared.aggregates import Decision, Loaded, NotFound
from shared.contracts import Message, SupplyCompleted
from shared.envelope import Envelope, new_envelope

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@contextmanager
def order_trace(carrier: dict[str, str]) -> Iterator[None]:
    """One trace per order (ARCHITECTURE.md): continue the order's trace, linked to the HTTP request's."""
    request = trace.get_current_span().get_span_context()
    links = [trace.Link(request)] if request.is_valid else []
    parent = propagate.extract(carrier)
    with tracer.start_as_current_span("complete supply order", context=parent, links=links):
        yield


async def complete_supply(supply_order_id: str, ful: Fulfillment) -> SupplyOrder:
    """Production finished or goods received: SupplyCompleted once, a repeat changes nothing."""
    now = now_ms()

    def complete(order: SupplyOrder) -> Decision:
        if not order.complete(now):  # SupplyOrderCancelled propagates (HTTP 409)
            return []
        return [SupplyCompleted(order_id=order.order_id, supply_order_id=order.supply_order_id,
                                sku=order.sku, quantity=order.quantity)]  # fmt: skip

    def in_order_trace(messages: Sequence[Message], loaded: Loaded[SupplyOrder]) -> list[Envelope]:
        with order_trace(loaded.doc.get("trace") or {}):
            return [new_envelope(m, producer=ful.settings.service_name) for m in messages]

    try:
        result = await ful.change(ful.supply_orders, supply_order_id, complete, None, in_order_trace)
    except NotFound as exc:
        raise SupplyOrderNotFound(supply_order_id) from exc
    order = result.loaded.aggregate
    if result.written:
        log.info(
            "supply order completed", extra={"order_id": order.order_id, "supply_order_id": supply_order_id}
        )
    return order


async def start_production(supply_order_id: str, by: str, ful: Fulfillment) -> SupplyOrder:
    """Production of a production order began (R7.2): from now on an order change cannot change
    it. ``by`` is the caller's key name. Once: a repeat changes nothing and answers the same."""
    now = now_ms()

    def start(order: SupplyOrder) -> Decision:
        order.start(now, by)  # a purchase, cancelled or completed order raises (HTTP 409)
        return []  # nothing to send; the write is the started_at

    try:
        result = await ful.change(ful.supply_orders, supply_order_id, start, None)
    except NotFound as exc:
        raise SupplyOrderNotFound(supply_order_id) from exc
    order = result.loaded.aggregate
    if result.written:
        log.info("production started", extra={"order_id": order.order_id, "supply_order_id": supply_order_id})
    return order
