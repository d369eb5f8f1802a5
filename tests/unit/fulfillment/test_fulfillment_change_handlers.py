"""ChangeSupply racing itself or the compensation, on the in-memory stores (they can hold a racer
until just before the next write). The behaviour on both adapters is in
tests/integration/fulfillment/test_supply_change_handlers.py."""

from __future__ import annotations

import pytest

from services.fulfillment.changes import change_supply
from services.fulfillment.deps import Fulfillment
from services.fulfillment.domain import DomainError
from services.fulfillment.handlers import cancel_supply, raise_supply
from shared.contracts import ChangeSupply, RaiseSupply, Shortage, SupplyTarget
from tests.unit.fulfillment.builders import a_cancel, sent, uid


async def raised_shade(ful: Fulfillment, order_id: str) -> None:
    command = sent(RaiseSupply(order_id=order_id, shortages=[
        Shortage(sku="SHADE", quantity=5, sourcing="buy", lead_time_days=3)]))  # fmt: skip
    await raise_supply(command.message(), command, ful)  # type: ignore[arg-type]


def a_change(order_id: str) -> ChangeSupply:
    targets = [SupplyTarget(sku="SHADE", quantity=2), SupplyTarget(sku="LAMP", quantity=3, sourcing="make")]
    return ChangeSupply(order_id=order_id, change_id=f"{order_id}:c1", targets=targets)


async def test_a_change_racing_its_twin_writes_each_step_once_and_both_are_answered_under_one_id(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    await raised_shade(ful, order_id)
    command = sent(a_change(order_id))

    async def twin() -> None:  # the other copy of the delivery does everything before our answer
        await change_supply(command.message(), command, ful)  # type: ignore[arg-type]

    requests.before_next_save.append(twin)
    await change_supply(command.message(), command, ful)  # type: ignore[arg-type]

    first, again = [e for e in bus.published if e.type == "SupplyChanged"]
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert supply_orders.writes == 3  # raised SHADE, resized it, raised LAMP: each once
    assert [(s["sku"], s["quantity"]) for s in first.payload["supply_orders"]] == [("SHADE", 2), ("LAMP", 3)]


async def test_a_cancel_racing_a_change_leaves_no_open_supply_order_and_no_changed_reply(
    ful, supply_orders, requests, bus
):
    order_id = uid("SO")
    await raised_shade(ful, order_id)
    cancel = sent(a_cancel(order_id))

    async def cancel_first() -> None:  # lands after the change raised LAMP, before its answer
        await cancel_supply(cancel.message(), cancel, ful)

    requests.before_next_save.append(cancel_first)
    command = sent(a_change(order_id))
    await change_supply(command.message(), command, ful)  # type: ignore[arg-type]

    assert [e.type for e in bus.published] == ["SupplyRaised", "SupplyCancelled"]
    assert sorted(d["status"] for d in supply_orders.collection.find_all(order_id=order_id)) == [
        "cancelled", "cancelled"]  # fmt: skip
    assert f"{order_id}:c1" not in (await requests.load(order_id)).aggregate.changes


async def test_a_change_without_its_id_is_refused_and_writes_nothing(ful, supply_orders, requests):
    command = sent(
        ChangeSupply(order_id=uid("SO"), change_id="", targets=[SupplyTarget(sku="A", quantity=1)])
    )

    with pytest.raises(DomainError):
        await change_supply(command.message(), command, ful)  # type: ignore[arg-type]

    assert (supply_orders.writes, requests.writes) == (0, 0)
