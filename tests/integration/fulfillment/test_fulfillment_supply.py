"""Supply orders for shortages over the real bus and store (R4.2, R7.1)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from shared.contracts import CancelSupply, RaiseSupply, Shortage
from shared.envelope import new_envelope
from tests.support.barriers import handled, handled_all, synced

pytestmark = pytest.mark.integration


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def raise_for(order_id: str, *shortages: tuple[str, int, str, int]) -> RaiseSupply:
    lines = [Shortage(sku=sku, quantity=q, sourcing=src, lead_time_days=d) for sku, q, src, d in shortages]
    return RaiseSupply(order_id=order_id, shortages=lines)


async def supply_of(http, order_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await http.get("/supply-orders", params={"order_id": order_id})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def raised_id(probe, order_id: str) -> str:  # type: ignore[no-untyped-def]
    """The id of the first supply order raised for the order."""
    raised = await probe.wait_for("SupplyRaised", order_id)
    return raised[0].payload["supply_orders"][0]["supply_order_id"]  # type: ignore[no-any-return]


async def test_completing_a_supply_order_continues_the_orders_trace(http, probe):
    order_id, trace_id = uid("SO"), uuid.uuid4().hex
    command = raise_for(order_id, (uid("SKU"), 1, "make", 1))
    traced = new_envelope(command, producer="intake").model_copy(
        update={"trace": {"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"}})  # fmt: skip
    await probe.publish(command, envelope=traced)

    await http.post(f"/supply-orders/{await raised_id(probe, order_id)}/complete")
    completed = (await probe.wait_for("SupplyCompleted", order_id))[0]

    assert completed.trace["traceparent"].split("-")[1] == trace_id


async def test_make_shortages_get_production_and_buy_shortages_purchase_orders_r4_2(http, probe):
    order_id, lamp, shade = uid("SO"), uid("LAMP"), uid("SHADE")

    await probe.publish(raise_for(order_id, (lamp, 4, "make", 14), (shade, 2, "buy", 3)))
    raised = (await probe.wait_for("SupplyRaised", order_id))[0].payload["supply_orders"]
    listed = await supply_of(http, order_id)

    assert [(s["kind"], s["sku"], s["quantity"]) for s in raised] == [
        ("production", lamp, 4), ("purchase", shade, 2)]  # fmt: skip
    assert [(s["supply_order_id"], s["status"], s["order_id"]) for s in listed] == [
        (s["supply_order_id"], "open", order_id) for s in raised]  # fmt: skip
    lead = datetime.fromisoformat(listed[0]["expected_at"]) - datetime.fromisoformat(listed[0]["created_at"])
    assert lead == timedelta(days=14)
    assert listed[0]["expected_at"] == raised[0]["expected_at"]


async def test_a_zero_lead_time_uses_the_default_setting(http, probe):
    order_id = uid("SO")

    await probe.publish(raise_for(order_id, (uid("SKU"), 1, "buy", 0)))
    await probe.wait_for("SupplyRaised", order_id)
    listed = (await supply_of(http, order_id))[0]

    wait = datetime.fromisoformat(listed["expected_at"]) - datetime.fromisoformat(listed["created_at"])
    assert wait == timedelta(days=7)


async def test_a_duplicated_raise_supply_raises_nothing_new(http, probe):
    order_id = uid("SO")
    command = raise_for(order_id, (uid("SKU"), 3, "make", 2))
    first = await probe.publish(command)
    await probe.wait_for("SupplyRaised", order_id)

    await asyncio.gather(probe.publish(command, envelope=first), probe.publish(command))
    replies = await probe.wait_for("SupplyRaised", order_id, count=3)

    assert len(await supply_of(http, order_id)) == 1
    assert len({r.payload["supply_orders"][0]["supply_order_id"] for r in replies}) == 1


async def test_completing_a_supply_order_reports_it_once(http, probe):
    order_id, sku = uid("SO"), uid("SKU")
    await probe.publish(raise_for(order_id, (sku, 3, "buy", 2)))
    supply_order_id = await raised_id(probe, order_id)

    first = await http.post(f"/supply-orders/{supply_order_id}/complete")
    again = await http.post(f"/supply-orders/{supply_order_id}/complete")
    completed = await probe.wait_for("SupplyCompleted", order_id)
    await synced(probe)  # both requests published whatever they caused before answering

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "completed"
    assert len(probe.matching("SupplyCompleted", order_id)) == 1
    assert completed[0].payload == {"order_id": order_id, "supply_order_id": supply_order_id, "sku": sku,
                                    "quantity": 3}  # fmt: skip
    assert (await http.get(f"/supply-orders/{supply_order_id}")).json()["status"] == "completed"


async def test_cancelling_cancels_open_supply_orders_and_keeps_completed_ones_as_stock_r7_1(http, probe):
    order_id = uid("SO")
    await probe.publish(raise_for(order_id, (uid("A"), 1, "make", 1), (uid("B"), 1, "buy", 1)))
    raised = (await probe.wait_for("SupplyRaised", order_id))[0].payload["supply_orders"]
    await http.post(f"/supply-orders/{raised[0]['supply_order_id']}/complete")

    await probe.publish(CancelSupply(order_id=order_id))
    cancelled = (await probe.wait_for("SupplyCancelled", order_id))[0].payload

    assert cancelled["supply_order_ids"] == [raised[1]["supply_order_id"]]
    assert [s["status"] for s in await supply_of(http, order_id)] == ["completed", "cancelled"]


async def test_a_cancelled_supply_order_cannot_be_completed(http, probe):
    order_id = uid("SO")
    await probe.publish(raise_for(order_id, (uid("A"), 1, "make", 1)))
    supply_order_id = await raised_id(probe, order_id)
    await probe.publish(CancelSupply(order_id=order_id))
    await probe.wait_for("SupplyCancelled", order_id)

    response = await http.post(f"/supply-orders/{supply_order_id}/complete")
    await synced(probe)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "supply_order_cancelled"
    assert (await http.get(f"/supply-orders/{supply_order_id}")).json()["status"] == "cancelled"
    assert probe.matching("SupplyCompleted", order_id) == []


async def test_a_cancel_before_the_raise_leaves_a_tombstone_so_the_late_raise_does_nothing(
    http, probe, stack
):
    order_id = uid("SO")

    await probe.publish(CancelSupply(order_id=order_id))
    assert (await probe.wait_for("SupplyCancelled", order_id))[0].payload["supply_order_ids"] == []
    late = await probe.publish(raise_for(order_id, (uid("A"), 1, "make", 1)))
    await handled(stack, "fulfillment", late)
    await synced(probe)

    assert probe.matching("SupplyRaised", order_id) == []
    assert await supply_of(http, order_id) == []


async def test_a_cancel_racing_the_raise_leaves_no_open_supply_order(http, probe, stack):
    orders = [uid("SO") for _ in range(10)]
    sent = []

    for order_id in orders:
        command = raise_for(order_id, (uid("A"), 1, "make", 1), (uid("B"), 2, "buy", 1))
        sent += await asyncio.gather(probe.publish(command), probe.publish(CancelSupply(order_id=order_id)))
    await handled_all(stack, "fulfillment", sent)  # both of each pair, whichever came first

    statuses = [s["status"] for order_id in orders for s in await supply_of(http, order_id)]
    assert "open" not in statuses


async def test_an_unknown_supply_order_is_not_found(http):
    got = await http.get("/supply-orders/PO-NOPE")
    response = await http.post("/supply-orders/PO-NOPE/complete")

    assert (got.status_code, got.json()["error"]["code"]) == (404, "not_found")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "not_found"
    assert (await http.get("/supply-orders/PO-NOPE")).status_code == 404  # completing created nothing


async def test_open_supply_orders_are_listed_oldest_first_for_the_factory(http, probe):
    order_id = uid("SO")
    await probe.publish(raise_for(order_id, (uid("SKU"), 1, "make", 1)))
    supply_order_id = await raised_id(probe, order_id)

    listed = (await http.get("/supply-orders", params={"status": "open", "limit": 500})).json()

    assert supply_order_id in [s["supply_order_id"] for s in listed]
    assert {s["status"] for s in listed} == {"open"}
    created = [s["created_at"] for s in listed]
    assert created == sorted(created)
