"""Production starts (POST /supply-orders/{id}/start), and an order change over the real bus and
store (issue 8, R7.2, R4.2): started production refuses the check and is kept by ChangeSupply."""

from __future__ import annotations

import uuid

import pytest

from shared.contracts import (
    CancelSupply,
    ChangeSupply,
    CheckSupplyChange,
    RaiseSupply,
    Shortage,
    SupplyTarget,
)
from tests.support.barriers import synced

pytestmark = pytest.mark.integration


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def raised(probe, order_id: str, *lines: tuple[str, int, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """RaiseSupply for (sku, quantity, sourcing); SKU -> supply order id."""
    shortages = [Shortage(sku=sku, quantity=q, sourcing=src, lead_time_days=2) for sku, q, src in lines]  # type: ignore[arg-type]
    await probe.publish(RaiseSupply(order_id=order_id, shortages=shortages))
    refs = (await probe.wait_for("SupplyRaised", order_id))[0].payload["supply_orders"]
    return {r["sku"]: r["supply_order_id"] for r in refs}


@pytest.fixture
async def warehouse(stack):  # type: ignore[no-untyped-def]
    async with stack.client("fulfillment", as_="warehouse") as client:
        yield client


# --- POST /supply-orders/{id}/start -------------------------------------------------------------


async def test_starting_production_records_who_from_the_key_and_a_repeat_answers_the_same(
    http, warehouse, probe
):
    order_id = uid("SO")
    lamp = (await raised(probe, order_id, (uid("LAMP"), 2, "make"))).popitem()[1]
    assert (await http.get(f"/supply-orders/{lamp}")).json()["started_at"] is None

    first = await warehouse.post(f"/supply-orders/{lamp}/start", json={"started_by": "someone else"})
    again = await http.post(f"/supply-orders/{lamp}/start")  # admin, later: changes nothing

    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    body = first.json()
    assert (body["status"], body["started_by"]) == ("open", "wh.qian")  # the key's name, not the body's
    assert body["started_at"] is not None
    assert (await http.get(f"/supply-orders/{lamp}")).json()["started_at"] == body["started_at"]
    await synced(probe)
    assert probe.matching("SupplyCompleted", order_id) == []  # starting is not completing


async def test_a_purchase_order_cannot_be_started(http, probe):
    order_id = uid("SO")
    shade = (await raised(probe, order_id, (uid("SHADE"), 2, "buy"))).popitem()[1]

    response = await http.post(f"/supply-orders/{shade}/start")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_production"
    assert "purchase order" in response.json()["error"]["message"]
    assert (await http.get(f"/supply-orders/{shade}")).json()["started_at"] is None


async def test_a_completed_or_cancelled_production_order_cannot_be_started(http, probe):
    done_order, gone_order = uid("SO"), uid("SO")
    done = (await raised(probe, done_order, (uid("LAMP"), 1, "make"))).popitem()[1]
    gone = (await raised(probe, gone_order, (uid("LAMP"), 1, "make"))).popitem()[1]
    await http.post(f"/supply-orders/{done}/complete")
    await probe.publish(CancelSupply(order_id=gone_order))
    await probe.wait_for("SupplyCancelled", gone_order)

    completed = await http.post(f"/supply-orders/{done}/start")
    cancelled = await http.post(f"/supply-orders/{gone}/start")

    assert (completed.status_code, completed.json()["error"]["code"]) == (409, "supply_order_completed")
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (409, "supply_order_cancelled")


async def test_starting_an_unknown_supply_order_is_not_found_and_a_carrier_may_not(http, stack):
    response = await http.post("/supply-orders/MO-NOPE/start")
    async with stack.client("fulfillment", as_="carrier") as carrier:
        forbidden = await carrier.post("/supply-orders/MO-NOPE/start")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")


# --- the change's steps over the bus ------------------------------------------------------------


async def test_started_production_refuses_the_check_and_is_kept_while_a_purchase_is_resized(
    http, warehouse, probe
):
    order_id, lamp, shade, bulb = uid("SO"), uid("LAMP"), uid("SHADE"), uid("BULB")
    ids = await raised(probe, order_id, (lamp, 4, "make"), (shade, 5, "buy"))
    assert (await warehouse.post(f"/supply-orders/{ids[lamp]}/start")).status_code == 200
    change_id = f"{order_id}:c1"

    await probe.publish(CheckSupplyChange(order_id=order_id, change_id=change_id, skus=[lamp, shade]))
    checked = (await probe.wait_for("SupplyChangeChecked", order_id))[0].payload
    targets = [SupplyTarget(sku=lamp, quantity=1, sourcing="make"), SupplyTarget(sku=shade, quantity=2),
               SupplyTarget(sku=bulb, quantity=3, sourcing="buy", lead_time_days=1)]  # fmt: skip
    command = ChangeSupply(order_id=order_id, change_id=change_id, targets=targets)
    first = await probe.publish(command)
    changed = (await probe.wait_for("SupplyChanged", order_id))[0]
    await probe.publish(command, envelope=first)  # the same delivery again
    again = (await probe.wait_for("SupplyChanged", order_id, count=2))[1]

    assert list(checked["refused"]) == [lamp] and "it cannot change (R7.2)" in checked["refused"][lamp]
    assert [(s["sku"], s["quantity"]) for s in changed.payload["supply_orders"]] == [
        (lamp, 4), (shade, 2), (bulb, 3)]  # fmt: skip
    assert list(changed.payload["kept"]) == [lamp] and changed.payload["cancelled"] == []
    assert (again.message_id, again.payload) == (changed.message_id, changed.payload)
    listed = (await http.get("/supply-orders", params={"order_id": order_id})).json()
    assert sorted((s["sku"], s["quantity"], s["status"]) for s in listed) == sorted(
        [(lamp, 4, "open"), (shade, 2, "open"), (bulb, 3, "open")])  # fmt: skip

    await http.post(f"/supply-orders/{ids[shade]}/complete")
    completed = (await probe.wait_for("SupplyCompleted", order_id))[0].payload
    assert (completed["sku"], completed["quantity"]) == (shade, 2)  # the new quantity


async def test_a_change_cancels_at_zero_and_raises_again_for_a_sku_whose_supply_completed(http, probe):
    order_id, shade, cord = uid("SO"), uid("SHADE"), uid("CORD")
    ids = await raised(probe, order_id, (shade, 5, "buy"), (cord, 1, "buy"))
    await http.post(f"/supply-orders/{ids[shade]}/complete")

    await probe.publish(ChangeSupply(order_id=order_id, change_id=f"{order_id}:c1", targets=[
        SupplyTarget(sku=shade, quantity=3), SupplyTarget(sku=cord, quantity=0)]))  # fmt: skip
    changed = (await probe.wait_for("SupplyChanged", order_id))[0].payload

    [new] = changed["supply_orders"]
    assert (new["sku"], new["quantity"], new["kind"]) == (shade, 3, "purchase")
    assert new["supply_order_id"] != ids[shade] and changed["cancelled"] == [ids[cord]]
    listed = (await http.get("/supply-orders", params={"order_id": order_id})).json()
    statuses = {s["supply_order_id"]: s["status"] for s in listed}
    assert statuses == {ids[shade]: "completed", ids[cord]: "cancelled", new["supply_order_id"]: "open"}
