"""An order change seen from supply (issue 8, R7.2, R4.2): pure rules over an order's supply orders.

``refusals`` answers CheckSupplyChange: a SKU whose open supply order is production that started
cannot change. ChangeSupply sets each target SKU's open supply order to what is still missing
(``supply_order.step_for`` / ``SupplyOrder.change_to``), each step once per change id, and its
answer is read back from the stored supply orders (``outcome``), so that a redelivery after a
crash half-way finishes the steps and answers from what is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.fulfillment.domain.supply_order import SupplyOrder, SupplyStatus


def open_for(orders: Iterable[SupplyOrder], sku: str) -> SupplyOrder | None:
    """The order's open supply order for ``sku`` (the newest, should there ever be several)."""
    found = [o for o in orders if o.sku == sku and o.status is SupplyStatus.OPEN]
    return max(found, key=lambda o: o.created_at) if found else None


def applied(orders: Iterable[SupplyOrder], sku: str, change_id: str) -> bool:
    """Whether the change ``change_id`` has raised, resized or cancelled ``sku``'s supply already."""
    return any(
        o.sku == sku and (o.raised_by_change == change_id or change_id in o.changed_by) for o in orders
    )


def refusals(orders: Iterable[SupplyOrder], skus: Iterable[str]) -> dict[str, str]:
    """SKU -> why its supply cannot change (R7.2): its open supply order is production that
    started. A purchase order, production not started, none open (completed, cancelled, never
    raised): no refusal."""
    orders = list(orders)
    refused: dict[str, str] = {}
    for sku in skus:
        open_order = open_for(orders, sku)
        why = open_order.change_refusal() if open_order is not None else None
        if why is not None:
            refused[sku] = why
    return refused


@dataclass
class Outcome:
    """What a change left: the targets' open supply orders, those it cancelled, those it kept."""

    supply_orders: list[SupplyOrder] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)


def outcome(orders: Iterable[SupplyOrder], targets: Mapping[str, int], change_id: str) -> Outcome:
    """The answer to the change ``change_id`` from the stored supply orders: each target SKU's open
    supply order, the ones this change cancelled, and SKU -> why for a started production order
    whose quantity is not the target (kept unchanged, R7.2)."""
    orders = list(orders)
    done = Outcome()
    for sku, quantity in targets.items():
        open_order = open_for(orders, sku)
        if open_order is not None:
            done.supply_orders.append(open_order)
            why = open_order.change_refusal()
            if why is not None and open_order.quantity != quantity:
                done.kept[sku] = why
        done.cancelled += [
            o.supply_order_id
            for o in orders
            if o.sku == sku and o.status is SupplyStatus.CANCELLED and o.changed_by[-1:] == [change_id]
        ]
    return done
