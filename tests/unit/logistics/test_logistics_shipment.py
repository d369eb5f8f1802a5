"""Shipment status and carrier events (R5.2-R5.4, R7.1)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.logistics.domain import CannotCancel, Consignee, InvalidTransition, Shipment, packing_list

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def a_booked_shipment() -> Shipment:
    return Shipment.book(
        "SH1",
        "SO202405001",
        carrier="SF Express",
        mode="express",
        tracking_number="SF000000000001",
        consignee=Consignee("Wang Li", "上海市浦东新区世纪大道100号"),
        lines=(("LAMP-RED", 2),),
        amount=10_000,
        at=T0,
    )


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_pickup_dispatches_the_shipment_and_tells_the_others():
    shipment = a_booked_shipment()

    outcome = shipment.record("picked_up", at(1))

    assert (outcome.recorded, outcome.notify, shipment.status) == (True, "dispatched", "dispatched")


def test_a_shipment_moves_through_transit_to_delivered():
    shipment = a_booked_shipment()
    shipment.record("picked_up", at(1))

    assert shipment.record("in_transit", at(2), "Shanghai hub").notify is None
    outcome = shipment.record("delivered", at(9), "signed by Wang Li")

    assert (outcome.notify, shipment.status) == ("delivered", "delivered")
    assert [e.type for e in shipment.events] == ["booked", "picked_up", "in_transit", "delivered"]


def test_a_delay_is_an_exception_that_keeps_the_status():
    shipment = a_booked_shipment()
    shipment.record("picked_up", at(1))

    outcome = shipment.record("delayed", at(5), "typhoon")

    assert (outcome.notify, shipment.status) == ("delayed", "dispatched")


def test_a_lost_parcel_is_reported_and_may_still_be_delivered():
    shipment = a_booked_shipment()
    shipment.record("picked_up", at(1))

    assert shipment.record("lost", at(30)).notify == "lost"  # its own event, ShipmentLost
    assert shipment.status == "lost"
    assert shipment.record("delivered", at(50)).notify == "delivered"


def test_a_repeated_identical_event_changes_nothing_and_notifies_nobody():
    shipment = a_booked_shipment()
    shipment.record("picked_up", at(1))
    shipment.record("delayed", at(3), "typhoon")

    assert not shipment.record("picked_up", at(1)).recorded
    assert not shipment.record("picked_up", at(2)).recorded, "a pickup happens once"
    assert not shipment.record("delayed", at(3), "typhoon").recorded
    assert not shipment.record("delayed", at(4), "typhoon", at_given=False).recorded
    assert len(shipment.events) == 3


def test_a_new_delay_report_is_recorded_again():
    shipment = a_booked_shipment()
    shipment.record("delayed", at(3), "typhoon")

    assert shipment.record("delayed", at(8), "typhoon").recorded


@pytest.mark.parametrize("event", ["delivered", "lost", "in_transit"])
def test_events_before_pickup_are_refused(event):
    shipment = a_booked_shipment()

    with pytest.raises(InvalidTransition):
        shipment.record(event, at(4))


def test_delivered_on_a_cancelled_shipment_is_refused():
    shipment = a_booked_shipment()
    shipment.cancel(at(1), "customer cancelled")

    with pytest.raises(InvalidTransition):
        shipment.record("delivered", at(2))


def test_cancelling_is_possible_only_before_dispatch():
    booked, dispatched = a_booked_shipment(), a_booked_shipment()
    dispatched.record("picked_up", at(1))

    assert booked.cancel(at(2)) and not booked.cancel(at(3))
    with pytest.raises(CannotCancel):
        dispatched.cancel(at(2))
    assert dispatched.status == "dispatched"


def test_a_tombstone_accepts_no_carrier_events_and_has_no_packing_list():
    tomb = Shipment.tombstone_for("SH9", "SO9", T0)

    with pytest.raises(InvalidTransition):
        tomb.record("picked_up", at(1))
    with pytest.raises(InvalidTransition):
        packing_list(tomb, "13812345678")
    assert not tomb.cancel(at(1))


def test_the_packing_list_names_order_consignee_address_and_the_phone_it_is_given():
    sheet = packing_list(a_booked_shipment(), "13812345678")  # asked of intake when printed (issue 7)

    assert (sheet.order_id, sheet.consignee, sheet.phone) == ("SO202405001", "Wang Li", "13812345678")
    assert sheet.address.startswith("上海市") and sheet.tracking_number == "SF000000000001"
