"""Booking and cancelling shipments over the real broker and store (R5.1, R5.2, R7.1)."""

from __future__ import annotations

import asyncio

import pytest

from shared.contracts import CancelShipment
from tests.integration.logistics.builders import a_booking, uid
from tests.support.barriers import handled, synced

pytestmark = pytest.mark.integration


async def test_a_booking_goes_by_express_with_a_tracking_number_visible_over_http(http, probe):
    order_id = uid("SO")

    await probe.publish(a_booking(order_id, amount=50_000))

    reply = (await probe.wait_for("ShipmentCreated", order_id))[0].payload
    assert (reply["carrier"], reply["mode"]) == ("SF Express", "express")
    [shipment] = (await http.get("/shipments", params={"order_id": order_id})).json()
    assert shipment["tracking_number"] == reply["tracking_number"].upper() != ""
    assert (shipment["shipment_id"], shipment["status"]) == (reply["shipment_id"], "booked")
    assert "phone" not in str(shipment)


async def test_a_large_order_goes_by_dedicated_vehicle(probe):
    order_id = uid("SO")

    await probe.publish(a_booking(order_id, amount=1_000_001))

    assert (await probe.wait_for("ShipmentCreated", order_id))[0].payload["mode"] == "dedicated_vehicle"


async def test_the_carrier_follows_the_destination_region(probe):
    order_id = uid("SO")

    await probe.publish(a_booking(order_id, address="新疆乌鲁木齐市天山区"))

    assert (await probe.wait_for("ShipmentCreated", order_id))[0].payload["carrier"] == "China Post EMS"


async def test_a_duplicate_create_shipment_books_one_shipment(http, probe):
    order_id = uid("SO")
    command = a_booking(order_id)

    await asyncio.gather(probe.publish(command), probe.publish(command), probe.publish(command))

    replies = await probe.wait_for("ShipmentCreated", order_id, count=3)
    assert len({r.payload["shipment_id"] for r in replies}) == 1
    assert len((await http.get("/shipments", params={"order_id": order_id})).json()) == 1


async def test_the_packing_list_names_order_consignee_address_and_the_phone_intake_has(
    http, probe, intake, stack
):
    order_id = uid("SO")
    intake.add_order(order_id, phone="13812345678")
    await probe.publish(a_booking(order_id))
    shipment_id = (await probe.wait_for("ShipmentCreated", order_id))[0].payload["shipment_id"]
    asked = len(intake.keys)

    sheet = (await http.get(f"/shipments/{shipment_id}/packing-list")).json()

    assert (sheet["order_id"], sheet["consignee"], sheet["phone"]) == (order_id, "Wang Li", "13812345678")
    assert sheet["address"].startswith("上海市") and sheet["lines"] == [{"sku": "LAMP-RED", "quantity": 2}]
    [key] = intake.keys[asked:]  # asked once, with logistics' own key, not the caller's (issue 7)
    assert key.startswith("Bearer oms_") and key.removeprefix("Bearer ") not in stack.keys.values()


async def test_the_phone_is_intakes_as_it_is_when_the_list_is_printed_and_never_stored(http, probe, intake):
    order_id = uid("SO")
    intake.add_order(order_id, phone="13812345678")
    await probe.publish(a_booking(order_id))
    shipment_id = (await probe.wait_for("ShipmentCreated", order_id))[0].payload["shipment_id"]
    intake.add_order(order_id, phone="13900001111")  # the customer gave a new number

    sheet = (await http.get(f"/shipments/{shipment_id}/packing-list")).json()

    assert sheet["phone"] == "13900001111"
    for path in (f"/shipments/{shipment_id}", f"/shipments?order_id={order_id}"):
        assert "1381234" not in (await http.get(path)).text


async def test_without_intake_the_packing_list_is_a_503_and_for_an_order_intake_lacks_a_404(http, probe):
    unknown, broken = uid("SO"), uid("BROKEN")
    for order_id in (unknown, broken):
        await probe.publish(a_booking(order_id))
    ids = {
        o: (await probe.wait_for("ShipmentCreated", o))[0].payload["shipment_id"] for o in (unknown, broken)
    }

    missing = await http.get(f"/shipments/{ids[unknown]}/packing-list")
    failing = await http.get(f"/shipments/{ids[broken]}/packing-list")

    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["code"] == "not_found" and unknown in missing.json()["error"]["message"]
    assert failing.status_code == 503, failing.text
    assert failing.json()["error"]["code"] == "dependency_unavailable" and failing.headers["Retry-After"]
    assert "phone" not in missing.json()  # never a list without the phone


async def test_cancelling_a_booked_shipment_replies_cancelled(http, probe):
    order_id = uid("SO")
    await probe.publish(a_booking(order_id))
    shipment_id = (await probe.wait_for("ShipmentCreated", order_id))[0].payload["shipment_id"]

    await probe.publish(CancelShipment(order_id=order_id))

    assert (await probe.wait_for("ShipmentCancelled", order_id))[0].payload["shipment_id"] == shipment_id
    assert (await http.get(f"/shipments/{shipment_id}")).json()["status"] == "cancelled"


async def test_a_cancel_before_the_booking_leaves_a_tombstone_so_the_late_booking_does_nothing(
    http, probe, stack
):
    order_id = uid("SO")

    await probe.publish(CancelShipment(order_id=order_id))
    assert (await probe.wait_for("ShipmentCancelled", order_id))[0].payload["shipment_id"] is None
    late = await probe.publish(a_booking(order_id))
    await handled(stack, "logistics", late)
    await synced(probe)

    assert probe.matching("ShipmentCreated", order_id) == []
    assert (await http.get("/shipments", params={"order_id": order_id})).json() == []


async def test_a_dispatched_shipment_is_not_cancelled_and_no_reply_is_sent(http, probe, stack):
    order_id = uid("SO")
    await probe.publish(a_booking(order_id))
    shipment_id = (await probe.wait_for("ShipmentCreated", order_id))[0].payload["shipment_id"]
    picked = await http.post(f"/shipments/{shipment_id}/events", json={"type": "picked_up"})
    assert picked.status_code == 202, picked.text

    cancel = await probe.publish(CancelShipment(order_id=order_id))
    await handled(stack, "logistics", cancel)  # acked without a reply, not retried or parked
    await synced(probe)

    assert probe.matching("ShipmentCancelled", order_id) == []
    assert (await http.get(f"/shipments/{shipment_id}")).json()["status"] == "dispatched"
