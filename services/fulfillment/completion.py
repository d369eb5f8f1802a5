"""The factory's side (HTTP): a supply order is done, production finished or goods received (R4.2).

SupplyCompleted is staged in the supply order's own document and continues the order's trace.
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
