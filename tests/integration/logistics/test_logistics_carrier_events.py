"""Carrier events reported over HTTP become messages (R5.3, R5.4); the error format holds."""

from __future__ import annotations

import pytest

from shared.contracts import CancelShipment, HoldShipment
from tests.integration.logistics.builders import a_booking, uid
from tests.support.barriers import synced

pytestmark = pytest.mark.integration


async def booked(probe) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    order_id = uid("SO")
    await probe.publish(a_booking(order_id))
    return order_id, (await probe.wait_for("ShipmentCreated", order_id))[0].payload["shipment_id"]


async def test_pickup_transit_and_delivery_produce_dispatched_and_delivered(http, probe):
    order_id, shipment_id = await booked(probe)
    url = f"/shipments/{shipment_id}/events"

    picked = await http.post(url, json={"type": "picked_up", "at": "2024-05-06T09:00:00+08:00"})
    transit = await http.post(url, json={"type": "in_transit", "note": "Shanghai hub"})
    delivered = await http.post(url, json={"type": "delivered", "note": "signed by Wang Li"})

    assert (picked.status_code, transit.status_code, delivered.status_code) == (202, 202, 202)
    dispatched = (await probe.wait_for("ShipmentDispatched", order_id))[0].payload
    assert dispatched["at"] == "2024-05-06T01:00:00+00:00" and dispatched["tracking_number"]
    await probe.wait_for("ShipmentDelivered", order_id)
    shipment = delivered.json()
    assert shipment["status"] == "delivered"
    assert [e["type"] for e in shipment["events"]] == ["booked", "picked_up", "in_transit", "delivered"]


async def test_delays_and_losses_are_exceptions_someone_must_act_on(http, probe):
    order_id, shipment_id = await booked(probe)
    url = f"/shipments/{shipment_id}/events"
    await http.post(url, json={"type": "picked_up"})

    await http.post(url, json={"type": "delayed", "note": "typhoon"})
    await http.post(url, json={"type": "lost"})

    [delay] = await probe.wait_for("ShipmentDelayed", order_id)
    [lost] = await probe.wait_for("ShipmentLost", order_id)  # a loss is its own event (issue 6)
    assert (delay.payload["type"], delay.payload["note"]) == ("delayed", "typhoon")
    assert lost.payload == {"order_id": order_id, "shipment_id": shipment_id, "note": ""}


async def test_a_repeated_identical_event_is_absorbed_without_a_second_message(http, probe):
    order_id, shipment_id = await booked(probe)
    body = {"type": "picked_up", "at": "2024-05-06T09:00:00.123456+08:00"}

    first = await http.post(f"/shipments/{shipment_id}/events", json=body)
    again = await http.post(f"/shipments/{shipment_id}/events", json=body)
    await synced(probe)  # each request published what it caused before answering

    assert (first.status_code, again.status_code) == (202, 200)
    assert len(probe.matching("ShipmentDispatched", order_id)) == 1
    events = (await http.get(f"/shipments/{shipment_id}")).json()["events"]
    assert [e["type"] for e in events] == ["booked", "picked_up"]


async def test_delivered_on_a_cancelled_shipment_is_a_conflict(http, probe):
    order_id, shipment_id = await booked(probe)
    await probe.publish(CancelShipment(order_id=order_id))
    await probe.wait_for("ShipmentCancelled", order_id)

    response = await http.post(f"/shipments/{shipment_id}/events", json={"type": "delivered"})
    await synced(probe)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    shipment = (await http.get(f"/shipments/{shipment_id}")).json()
    assert shipment["status"] == "cancelled" and "delivered" not in [e["type"] for e in shipment["events"]]
    assert probe.matching("ShipmentDelivered", order_id) == []


async def test_a_pickup_of_a_shipment_held_for_a_change_of_the_order_is_a_conflict(http, probe):
    order_id, shipment_id = await booked(probe)
    await probe.publish(HoldShipment(order_id=order_id, change_id="CH1"))  # R7.2
    [held] = await probe.wait_for("ShipmentHeld", order_id)

    response = await http.post(f"/shipments/{shipment_id}/events", json={"type": "picked_up"})
    await synced(probe)

    assert (held.payload["held"], held.payload["shipment_id"]) == (True, shipment_id)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert "must not be handed over" in response.json()["error"]["message"]
    shipment = (await http.get(f"/shipments/{shipment_id}")).json()
    assert (shipment["status"], shipment["held_by"]) == ("held", "CH1")
    assert [e["type"] for e in shipment["events"]] == ["booked", "held"]
    assert probe.matching("ShipmentDispatched", order_id) == []


@pytest.mark.parametrize(
    "body", [{"type": "teleported"}, {"type": "delivered", "at": "2024-05-06T09:00:00"}, {}, {"type": 1}]
)
async def test_a_bad_carrier_event_is_refused_with_the_error_format(http, probe, body):
    _, shipment_id = await booked(probe)

    response = await http.post(f"/shipments/{shipment_id}/events", json=body)

    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "validation_failed"
    shipment = (await http.get(f"/shipments/{shipment_id}")).json()
    assert (shipment["status"], [e["type"] for e in shipment["events"]]) == ("booked", ["booked"])


async def test_unknown_shipments_are_not_found(http):
    unknown = uid("SH")
    got = await http.get(f"/shipments/{unknown}")
    reported = await http.post(f"/shipments/{unknown}/events", json={"type": "delivered"})
    unfiltered = await http.get("/shipments")

    assert (got.status_code, got.json()["error"]["code"]) == (404, "not_found")
    assert (reported.status_code, reported.json()["error"]["code"]) == (404, "not_found")
    assert (await http.get(f"/shipments/{unknown}")).status_code == 404  # the event created nothing
    assert (await http.get("/shipments", params={"order_id": uid("SO")})).json() == []
    assert (unfiltered.status_code, unfiltered.json()["error"]["code"]) == (422, "validation_failed")
