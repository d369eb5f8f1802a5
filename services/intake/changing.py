"""Changing an accepted order at the door (issue 8, R7.2, R4.2): the new lines checked against the
catalogue and the price rules, a preview that changes nothing, and the change started through the
saga (domain/changes.py) under the order's version."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from services.intake.adapters.mapping import from_doc
from services.intake.deps import Intake
from services.intake.domain import changes as ch
from services.intake.domain import saga
from services.intake.domain.errors import ChangeNotPossible, OrderInvalid, OrderNotFound, VersionConflict
from services.intake.domain.order import Line, Order
from services.intake.domain.pricing import price
from services.intake.domain.validation import LineRequest, _check_line, components_of
from services.intake.handlers import _change

log = logging.getLogger(__name__)
Doc = dict[str, Any]


async def new_lines(intake: Intake, order: Order, requested: list[LineRequest]) -> list[Line]:
    """The order's lines as a change asks them: a line kept (same SKU and spec) keeps its price and
    components unless a price is given; a new one gets the catalogue's. A price below what the
    channel may give on its own is refused here: a change is not a way round review (R1.5, R2.2)."""
    if not requested:
        raise OrderInvalid({"lines": "at least one line: to drop everything, cancel the order (R7.1)"})
    catalogue = await intake.catalogue.products([line.sku or "" for line in requested])
    errors: dict[str, str] = {}
    for i, line in enumerate(requested):
        _check_line(i, line, catalogue, errors)
    if errors:
        raise OrderInvalid(errors)
    kept = {(li.sku, li.spec): li for li in order.lines}
    lines: list[Line] = []
    for i, line in enumerate(requested):
        product, old = catalogue[line.sku or ""], kept.get((line.sku or "", line.spec))
        listed = int(product["unit_price"])
        if line.unit_price is None and old is not None:
            unit = old.unit_price  # the price agreed when it was placed
        else:
            priced = price(line.sku or "", line.unit_price, listed, order.channel, intake.settings.policy)
            if priced.review:
                raise ChangeNotPossible(f"lines.{i}: {priced.review}; place it as an order for review")
            unit = priced.unit_price
        components = old.components if old is not None else components_of(product)
        lines.append(
            Line(line.sku or "", str(product["name"]), line.quantity or 0, unit, line.spec, components)
        )
    return lines


async def _order(intake: Intake, order_id: str) -> tuple[Order, Doc]:
    doc = await intake.orders.get(order_id)
    if doc is None:
        raise OrderNotFound(f"no order {order_id}")
    return from_doc(doc), doc


async def asked(
    intake: Intake,
    order: Order,
    *,
    lines: list[LineRequest] | None,
    delivery_address: str | None,
    required_by: date | None,
    reason: str,
    kind: str = "amendment",
) -> ch.Asked:
    today = intake.now().astimezone(ZoneInfo(intake.settings.business_timezone)).date()
    if required_by is not None and required_by < today:
        raise OrderInvalid({"required_by": f"{required_by.isoformat()} is in the past"})
    built = await new_lines(intake, order, lines) if lines is not None else None
    return ch.Asked(kind=kind, lines=built, delivery_address=delivery_address, required_by=required_by,
                    reason=reason)  # fmt: skip


async def preview(intake: Intake, order_id: str, request: ch.Asked | None = None, **fields: Any) -> Doc:
    """What the change would do (stock, supply, credit, total, production), changing nothing."""
    order, doc = await _order(intake, order_id)
    wanted = request or await asked(intake, order, **fields)
    ch.may_change(order)
    lines = wanted.lines if wanted.lines is not None else [replace(li) for li in order.lines]
    planned = ch.plan(order, lines)
    more = [s.sku for s in planned.skus if s.delta > 0]
    available = await intake.catalogue.available(more) if more else {}
    return {
        "order_id": order.order_id,
        "version": int(doc.get("version", 0)),
        "status": order.status,
        **planned.view(available),
        # The carrier is booked: the shipment is held while the change runs, then booked again.
        **({"shipment": "held, then booked again with the new lines and address"}
           if order.status == "ready_to_ship" else {}),
        "lines": [
            {
                "sku": li.sku,
                "spec": li.spec,
                "quantity": li.quantity,
                "unit_price": li.unit_price,
                "amount": li.amount,
            }
            for li in lines
        ],
    }


async def start(
    intake: Intake, order_id: str, by: str, expected_version: int | None, wanted: ch.Asked
) -> Doc:
    """Start the change, if the order is still at ``expected_version`` (when given). Two changes
    racing are serialised by the order's version: the loser is decided again on what the winner
    wrote, and finds a change running (409)."""
    _, doc = await _order(intake, order_id)
    if expected_version is not None and int(doc.get("version", 0)) != expected_version:
        raise VersionConflict(
            f"order {order_id} is at version {doc.get('version', 0)}, not {expected_version}: "
            "read it again and decide on what it is now"
        )
    result = await _change(intake, order_id, lambda order: saga.change_order(order, wanted, by, intake.now()))
    log.info("order change started", extra={"order_id": order_id, "by": by, "kind": wanted.kind})
    return result
