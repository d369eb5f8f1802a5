"""The order saga over the real broker: the probe plays billing, inventory, logistics, aftersales."""

from __future__ import annotations

import asyncio

import pytest

from shared import contracts as c
from tests.integration.intake.test_intake_http import body
from tests.support.barriers import handled, parked_logged, parked_until, synced

pytestmark = pytest.mark.integration


async def place(api, door) -> str:
    response = await api.post("/orders", json=body(door, lines=[(door.product(price=10_000), 2)]))
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


async def wait_status(api, order_id: str, status: str, within: float = 15) -> dict:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        order = (await api.get(f"/orders/{order_id}")).json()
        if order["status"] == status:
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{order_id} is {order['status']}, expected {status}: {order['history']}")
        await asyncio.sleep(0.1)


async def answer(probe, command_type: str, order_id: str, reply: c.Event):
    """Wait for the saga's command, then reply to it as the owning service would."""
    [command] = (await probe.wait_for(command_type, order_id))[-1:]
    return command, await probe.publish(reply, producer=reply.SERVICE, causation=command)


async def to_ready_to_ship(api, door, probe) -> str:
    order_id = await place(api, door)
    await answer(
        probe,
        "ReserveCredit",
        order_id,
        c.CreditReserved(order_id=order_id, customer_id="x", amount=20_000, exposure=20_000),
    )
    lines = [c.LineQty(sku="any", quantity=2)]
    await answer(probe, "ReserveStock", order_id, c.StockReserved(order_id=order_id, lines=lines))
    await wait_status(api, order_id, "ready_to_ship")
    return order_id


async def test_replies_carry_an_order_from_credit_to_completed_in_one_trace(api, door, probe):
    order_id = await place(api, door)

    _, credit = await answer(
        probe,
        "ReserveCredit",
        order_id,
        c.CreditReserved(order_id=order_id, customer_id="x", amount=20_000, exposure=20_000),
    )
    await answer(
        probe,
        "ReserveStock",
        order_id,
        c.StockReserved(order_id=order_id, lines=[c.LineQty(sku="any", quantity=2)]),
    )
    await answer(
        probe,
        "CreateShipment",
        order_id,
        c.ShipmentCreated(
            order_id=order_id, shipment_id="SH-1", carrier="SF", mode="express", tracking_number="SF123"
        ),
    )
    await probe.publish(
        c.ShipmentDispatched(
            order_id=order_id, shipment_id="SH-1", tracking_number="SF123", at="2024-05-11T09:00:00+08:00"
        ),
        producer="logistics",
    )
    await answer(
        probe,
        "IssueInvoice",
        order_id,
        c.InvoiceIssued(order_id=order_id, invoice_id="INV-9", total=20_000, tax=2_301),
    )
    await probe.publish(
        c.ShipmentDelivered(order_id=order_id, shipment_id="SH-1", at="2024-05-12T10:00:00+08:00"),
        producer="logistics",
    )
    done = await wait_status(api, order_id, "completed")

    [reserve_stock] = probe.matching("ReserveStock", order_id)
    assert reserve_stock.causation_id == credit.message_id
    assert [h["status"] for h in done["history"] if h["status"]] == [
        "pending_review",
        "approved",
        "ready_to_ship",
        "shipped",
        "delivered",
        "completed",
    ]
    assert done["tracking_numbers"] == ["SF123"] and done["invoice_ids"] == ["INV-9"]
    sent = [e for e in probe.seen if e.correlation_id == order_id and e.producer == "intake"]
    assert {e.type for e in sent} == {
        "ReserveCredit",
        "ReserveStock",
        "CreateShipment",
        "CommitStock",
        "IssueInvoice",
    }
    assert len({e.trace["traceparent"].split("-")[1] for e in sent}) == 1


async def test_a_reply_delivered_twice_moves_the_saga_once(api, door, probe, stack):
    order_id = await place(api, door)
    [command] = await probe.wait_for("ReserveCredit", order_id)
    reply = await probe.publish(
        c.CreditReserved(order_id=order_id, customer_id="x", amount=1, exposure=1),
        producer="billing",
        causation=command,
    )

    await probe.publish(reply.message(), envelope=reply)  # the same envelope again
    await probe.publish(
        c.CreditReserved(order_id=order_id, customer_id="x", amount=1, exposure=1),
        producer="billing",
        causation=command,
    )  # billing answering a redelivered command: a reply's id comes from its command, so the same id
    await handled(stack, "intake", reply, count=3)  # all three copies absorbed
    await synced(probe)

    assert len(probe.matching("ReserveStock", order_id)) == 1
    order = await wait_status(api, order_id, "approved")
    assert [h["status"] for h in order["history"] if h["status"]] == ["pending_review", "approved"]


async def test_cancelling_compensates_newest_first_and_ends_cancelled(api, door, probe):
    order_id = await to_ready_to_ship(api, door, probe)

    response = await api.post(f"/orders/{order_id}/cancel", json={"reason": "changed my mind"})
    await answer(probe, "CancelShipment", order_id, c.ShipmentCancelled(order_id=order_id))
    await answer(probe, "ReleaseStock", order_id, c.StockReleased(order_id=order_id, lines=[]))
    await answer(probe, "ReleaseCredit", order_id, c.CreditReleased(order_id=order_id, amount=20_000))
    cancelled = await wait_status(api, order_id, "cancelled")

    assert response.status_code == 202 and response.json()["status"] == "cancelling"
    events = [h["event"] for h in cancelled["history"] if h["event"]]
    assert events.index("ShipmentCancelled") < events.index("StockReleased") < events.index("CreditReleased")
    [placed] = probe.matching("ReserveCredit", order_id)
    [cancel] = probe.matching("CancelShipment", order_id)
    assert cancel.trace["traceparent"].split("-")[1] == placed.trace["traceparent"].split("-")[1]


async def test_a_shipped_order_cannot_be_cancelled_and_points_to_returns(api, door, probe):
    order_id = await to_ready_to_ship(api, door, probe)
    await probe.publish(
        c.ShipmentDispatched(
            order_id=order_id, shipment_id="SH-1", tracking_number="T1", at="2024-05-11T09:00:00+08:00"
        ),
        producer="logistics",
    )
    await wait_status(api, order_id, "shipped")

    response = await api.post(f"/orders/{order_id}/cancel", json={"reason": "too late"})
    await synced(probe)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "order_shipped" and "returns" in error["fields"]
    assert (await api.get(f"/orders/{order_id}")).json()["status"] == "shipped"
    sent = [e.type for e in probe.seen if e.correlation_id == order_id]
    assert [t for t in sent if t.startswith(("Cancel", "Release"))] == []  # no compensation was started


async def test_an_order_over_the_credit_limit_waits_for_a_person(api, door, probe):
    order_id = await place(api, door)
    await answer(
        probe,
        "ReserveCredit",
        order_id,
        c.CreditLimitExceeded(
            order_id=order_id,
            customer_id="x",
            amount=20_000,
            exposure=20_000,
            credit_limit=100,
            reason="over the credit limit",
        ),
    )
    held = await wait_status(api, order_id, "on_hold")

    approved = await api.post(f"/orders/{order_id}/approve", json={"reason": "known"})
    forced = await probe.wait_for("ReserveCredit", order_id, count=2)

    assert held["hold"] == "credit" and held["history"][-1]["reason"] == "over the credit limit"
    assert approved.status_code == 200 and approved.json()["status"] == "pending_review"
    assert forced[-1].payload["force"] is True


async def test_only_an_order_on_hold_can_be_approved_or_rejected(api, door, probe):
    order_id = await place(api, door)
    before = (await api.get(f"/orders/{order_id}")).json()

    for action in ("approve", "reject"):
        response = await api.post(f"/orders/{order_id}/{action}", json={"reason": "x"})

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "order_not_on_hold"
    await synced(probe)

    assert (await api.get(f"/orders/{order_id}")).json() == before  # neither changed the order
    assert len(probe.matching("ReserveCredit", order_id)) == 1  # no forced credit check was sent


async def test_rejecting_an_order_on_hold_records_who_and_why(api, door, probe, stack):
    order_id = await place(api, door)
    await answer(
        probe,
        "ReserveCredit",
        order_id,
        c.CreditLimitExceeded(
            order_id=order_id, customer_id="x", amount=1, exposure=1, credit_limit=0, reason="over"
        ),
    )
    await wait_status(api, order_id, "on_hold")

    async with stack.client("intake", as_="manager") as manager:  # the key of "manager.wang"
        response = await manager.post(f"/orders/{order_id}/reject", json={"reason": "bad debt"})
        claimed = await manager.post(f"/orders/{order_id}/reject", json={"by": "someone.else", "reason": "x"})

    assert response.status_code == 200
    last = response.json()["history"][-1]
    # Who decided comes from the key, never from the body (issue 7): a body naming someone is a 422.
    assert (last["status"], last["by"], last["reason"]) == ("rejected", "manager.wang", "bad debt")
    assert claimed.status_code == 422 and "by" in claimed.json()["error"]["fields"]


async def test_a_completed_return_marks_the_order_returned(api, door, probe):
    order_id = await to_ready_to_ship(api, door, probe)
    await probe.publish(
        c.ShipmentDispatched(
            order_id=order_id, shipment_id="SH-1", tracking_number="T1", at="2024-05-11T09:00:00+08:00"
        ),
        producer="logistics",
    )
    order = await wait_status(api, order_id, "shipped")
    sku = order["lines"][0]["sku"]

    await probe.publish(
        c.ReturnCompleted(
            order_id=order_id,
            return_id="RT-1",
            lines=[c.LineQty(sku=sku, quantity=1)],
            refund_total=10_000,
            credit_note_id="CN-1",
        ),
        producer="aftersales",
    )
    partly = await wait_status(api, order_id, "partially_returned")

    assert partly["returned_quantities"] == {sku: 1}
    assert partly["credit_notes"] == [{"credit_note_id": "CN-1", "return_id": "RT-1", "total": 10_000}]


async def test_a_reply_for_an_order_intake_does_not_have_is_parked(api, probe, stack):
    await probe.parked("intake")

    sent = await probe.publish(
        c.CreditReserved(order_id="SO209901001", customer_id="x", amount=1, exposure=1), producer="billing"
    )
    await parked_logged(stack, "intake", sent)
    parked = await parked_until(probe, "intake", 1)

    assert len(parked) == 1
    assert "SO209901001" in str(parked[0][1].get("x-error"))
