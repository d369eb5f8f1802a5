"""Fulfillment use cases: raise and cancel supply for an order (R4.2, R7.1), complete a supply order.

Idempotent by business key: one supply order per (order_id, sku), one request document per
order. Tombstone choice: a RaiseSupply that finds the request ``cancelled`` raises nothing and
replies nothing (the saga already has its SupplyCancelled); any supply order a racing
RaiseSupply created meanwhile is cancelled at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import propagate, trace
from pymongo.errors import DuplicateKeyError

from services.fulfillment.adapters import MongoSupplyOrderStore, MongoSupplyRequestStore
from services.fulfillment.domain import SupplyOrder, SupplyRequest, kind_for
from services.fulfillment.settings import Settings
from shared.contracts import (
    CancelSupply,
    Message,
    RaiseSupply,
    SupplyCancelled,
    SupplyCompleted,
    SupplyOrderRef,
    SupplyRaised,
)
from shared.envelope import Envelope, new_envelope, utcnow
from shared.errors import ConcurrencyError
from shared.outbox import Outbox

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
PRODUCER = "fulfillment"


class SupplyOrderNotFound(Exception):
    """No supply order with that id (HTTP 404)."""


def now_ms() -> datetime:
    # The store keeps milliseconds; cut here so a reply and a later read agree to the digit.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_supply_order_id(kind: str) -> str:
    return f"{'MO' if kind == 'production' else 'PO'}-{uuid.uuid4().hex[:12].upper()}"


@contextmanager
def order_trace(carrier: dict[str, str]) -> Iterator[None]:
    """One trace per order (ARCHITECTURE.md): continue the order's trace, linked to the HTTP request's."""
    request = trace.get_current_span().get_span_context()
    links = [trace.Link(request)] if request.is_valid else []
    parent = propagate.extract(carrier)
    with tracer.start_as_current_span("complete supply order", context=parent, links=links):
        yield


def ref(order: SupplyOrder) -> SupplyOrderRef:
    return SupplyOrderRef(supply_order_id=order.supply_order_id, kind=order.kind, sku=order.sku,
                          quantity=order.quantity, expected_at=order.expected_at.isoformat())  # fmt: skip


@dataclass
class Fulfillment:
    """The handlers' dependencies, built once by bootstrap()."""

    settings: Settings
    supply_orders: MongoSupplyOrderStore
    requests: MongoSupplyRequestStore
    outbox: Outbox

    def reply(self, message: Message, cause: Envelope | None) -> Envelope:
        return new_envelope(message, producer=PRODUCER, causation=cause)

    async def retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` again from a fresh read while a concurrent writer wins the document."""
        for _ in range(self.settings.write_attempts):
            try:
                return await step()
            except (ConcurrencyError, DuplicateKeyError):
                continue
        raise ConcurrencyError("supply request kept changing; the bus will retry later")

    async def cancel_open(self, order_id: str) -> list[str]:
        """Cancel the order's open supply orders; completed ones stay as stock (R7.1)."""
        cancelled: list[str] = []
        for order, doc in await self.supply_orders.of_order(order_id):
            for _ in range(self.settings.write_attempts):
                if not order.cancel(now_ms()):
                    break
                try:
                    await self.supply_orders.save(order, doc)
                    cancelled.append(order.supply_order_id)
                    break
                except ConcurrencyError:  # completed (or cancelled) meanwhile: decide again
                    loaded = await self.supply_orders.load(order.supply_order_id)
                    assert loaded is not None
                    order, doc = loaded
        return cancelled


async def raise_supply(cmd: RaiseSupply, env: Envelope, ful: Fulfillment) -> None:
    """R4.2: a production order per ``make`` shortage, a purchase order per ``buy`` shortage."""
    wanted: dict[str, tuple[int, str, int]] = {}
    for s in cmd.shortages:
        quantity = wanted.get(s.sku, (0, s.sourcing, s.lead_time_days))[0] + s.quantity
        wanted[s.sku] = (quantity, s.sourcing, s.lead_time_days)

    async def step() -> None:
        loaded = await ful.requests.load(cmd.order_id)
        if loaded is not None and loaded[0].is_cancelled:
            await ful.cancel_open(cmd.order_id)  # what a RaiseSupply racing the cancel may have raised
            log.info("supply already cancelled for the order; late RaiseSupply ignored")
            return
        now, raised = now_ms(), []
        for sku, (quantity, sourcing, lead) in wanted.items():
            order = SupplyOrder.raise_for(
                supply_order_id=new_supply_order_id(kind_for(sourcing)), order_id=cmd.order_id, sku=sku,
                quantity=quantity, sourcing=sourcing, lead_time_days=lead, now=now,
                default_lead_time_days=ful.settings.default_lead_time_days,
            )  # fmt: skip
            raised.append(await ful.supply_orders.add(order, env.trace))
        request, doc = loaded or (SupplyRequest(cmd.order_id), None)
        reply = ful.reply(SupplyRaised(order_id=cmd.order_id, supply_orders=[ref(o) for o in raised]), env)
        if doc is not None and all(o.supply_order_id in request.supply_order_ids for o in raised):
            # A duplicate: every supply order exists and is recorded; answer again, writing nothing.
            await ful.outbox.publish([reply])
            return
        request.record(o.supply_order_id for o in raised)
        if doc is None:
            doc = await ful.requests.insert(request, [reply])
        else:
            doc = await ful.requests.save(request, doc, [reply])
        await ful.outbox.flush(ful.requests.collection, doc)
        log.info("supply raised", extra={"supply_order_ids": [o.supply_order_id for o in raised]})

    await ful.retrying(step)


async def cancel_supply(cmd: CancelSupply, env: Envelope, ful: Fulfillment) -> None:
    """R7.1: cancel the order's open supply orders; before any RaiseSupply it leaves a tombstone."""

    async def step() -> None:
        loaded = await ful.requests.load(cmd.order_id)
        if loaded is None:
            reply = ful.reply(SupplyCancelled(order_id=cmd.order_id, supply_order_ids=[]), env)
            doc = await ful.requests.insert(SupplyRequest.tombstone(cmd.order_id), [reply])
            await ful.outbox.flush(ful.requests.collection, doc)
            return
        request, doc = loaded
        duplicate = request.is_cancelled
        if not duplicate:
            # Close it first: a RaiseSupply running right now then sees it and cancels what it raised.
            request.cancel([])
            doc = await ful.requests.save(request, doc)
        cancelled = await ful.cancel_open(cmd.order_id)
        if duplicate and not cancelled:
            # A duplicate with nothing left open: answer again under the same id, writing nothing.
            again = SupplyCancelled(order_id=cmd.order_id, supply_order_ids=request.cancelled_ids)
            await ful.outbox.publish([ful.reply(again, env)])
            return
        request.cancel(cancelled)
        reply = ful.reply(SupplyCancelled(order_id=cmd.order_id, supply_order_ids=request.cancelled_ids), env)
        doc = await ful.requests.save(request, doc, [reply])
        await ful.outbox.flush(ful.requests.collection, doc)

    await ful.retrying(step)


async def complete_supply(supply_order_id: str, ful: Fulfillment) -> SupplyOrder:
    """Production finished or goods received: SupplyCompleted once, a repeat changes nothing."""
    for _ in range(ful.settings.write_attempts):
        loaded = await ful.supply_orders.load(supply_order_id)
        if loaded is None:
            raise SupplyOrderNotFound(supply_order_id)
        order, doc = loaded
        if not order.complete(now_ms()):  # SupplyOrderCancelled propagates (HTTP 409)
            return order
        event = SupplyCompleted(order_id=order.order_id, supply_order_id=order.supply_order_id,
                                sku=order.sku, quantity=order.quantity)  # fmt: skip
        with order_trace(doc.get("trace") or {}):
            reply = ful.reply(event, None)
        try:
            doc = await ful.supply_orders.save(order, doc, [reply])
        except ConcurrencyError:
            continue
        await ful.outbox.flush(ful.supply_orders.collection, doc)
        log.info(
            "supply order completed", extra={"order_id": order.order_id, "supply_order_id": supply_order_id}
        )
        return order
    raise ConcurrencyError(f"supply order {supply_order_id} kept changing")
