"""Shipment status and carrier events (R5.2-R5.4, R7.1); held and booked again while the order
changes (issue 8, R7.2)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.logistics.domain import (
    CannotCancel,
    CannotHold,
    Consignee,
    InvalidTransition,
    Shipment,
    packing_list,
)

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


# --- a change of the order holds the shipment, then books it again (issue 8, R7.2) --------------


def rebook(shipment: Shipment, booking: str, *, hours: int = 2) -> None:
    shipment.rebook(
        booking,
        carrier="Deppon Freight",
        mode="dedicated_vehicle",
        tracking_number="DEP000000000002",
        consignee=Consignee("Li Na", "杭州市西湖区文三路1号"),
        lines=(("LAMP-RED", 5), ("SHADE-RED", 1)),
        amount=900_000,
        at=at(hours),
    )


def test_a_change_holds_a_booked_shipment_and_logs_the_hold():
    shipment = a_booked_shipment()

    assert shipment.hold("CH1", at(1))

    assert (shipment.status, shipment.held_by) == ("held", "CH1")
    assert (shipment.events[-1].type, shipment.events[-1].note) == ("held", "CH1")


def test_a_repeated_hold_of_the_same_change_changes_nothing_but_another_change_takes_the_hold_over():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    assert not shipment.hold("CH1", at(2))
    assert len(shipment.events) == 2
    assert shipment.hold("CH2", at(3)) and shipment.held_by == "CH2"


@pytest.mark.parametrize("reports", [["picked_up"], ["picked_up", "in_transit"], ["picked_up", "delivered"],
                                     ["picked_up", "lost"]])  # fmt: skip
def test_a_hold_after_the_goods_left_is_refused_as_a_return(reports):
    shipment = a_booked_shipment()
    for hour, report in enumerate(reports, start=1):
        shipment.record(report, at(hour))
    status = shipment.status

    with pytest.raises(CannotHold, match=r"the goods left: .*a return now \(R7\.3\)"):
        shipment.hold("CH1", at(9))

    assert (shipment.status, shipment.held_by, shipment.events[-1].type) == (status, None, reports[-1])


def test_a_hold_of_a_cancelled_shipment_or_a_tombstone_is_refused():
    cancelled, tomb = a_booked_shipment(), Shipment.tombstone_for("SH9", "SO9", T0)
    cancelled.cancel(at(1), "order cancelled")

    for shipment in (cancelled, tomb):
        with pytest.raises(CannotHold, match="cancelled"):
            shipment.hold("CH1", at(2))
        assert shipment.status == "cancelled"


def test_rebooking_a_held_shipment_books_the_new_lines_on_the_same_shipment():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    rebook(shipment, "CH1")

    assert (shipment.shipment_id, shipment.status, shipment.held_by) == ("SH1", "booked", None)
    assert (shipment.carrier, shipment.mode, shipment.tracking_number) == (
        "Deppon Freight", "dedicated_vehicle", "DEP000000000002")  # fmt: skip
    assert (shipment.lines, shipment.amount) == ((("LAMP-RED", 5), ("SHADE-RED", 1)), 900_000)
    assert shipment.consignee == Consignee("Li Na", "杭州市西湖区文三路1号")
    assert shipment.bookings == ("", "CH1")
    assert [e.type for e in shipment.events] == ["booked", "held", "rebooked"]


def test_a_rebooked_shipment_goes_to_the_carrier_as_usual():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))
    rebook(shipment, "CH1")

    assert shipment.record("picked_up", at(3)).notify == "dispatched"


def test_rebooking_under_a_key_already_booked_is_refused():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))
    with pytest.raises(InvalidTransition, match="booked under ''"):
        rebook(shipment, "")  # the first booking, delivered again
    rebook(shipment, "CH1")
    shipment.hold("CH2", at(3))

    with pytest.raises(InvalidTransition, match="booked under 'CH1'"):
        rebook(shipment, "CH1")

    assert (shipment.status, shipment.held_by, shipment.bookings) == ("held", "CH2", ("", "CH1"))


def test_only_a_held_shipment_is_booked_again():
    shipment = a_booked_shipment()

    with pytest.raises(InvalidTransition, match="only a held shipment"):
        rebook(shipment, "CH1")

    assert (shipment.status, shipment.bookings) == ("booked", ("",))


def test_a_late_hold_of_a_change_that_booked_again_since_is_a_repeat():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))
    rebook(shipment, "CH1")

    assert not shipment.hold("CH1", at(4))  # a redelivery: must not keep the new booking waiting

    assert (shipment.status, shipment.held_by) == ("booked", None)


def test_a_held_shipment_can_be_cancelled():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    assert shipment.cancel(at(2), "order cancelled")

    assert (shipment.status, shipment.held_by) == ("cancelled", None)
    assert not shipment.cancel(at(3))


def test_a_delay_of_a_held_shipment_is_recorded_and_it_stays_held():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    outcome = shipment.record("delayed", at(2), "typhoon")

    assert (outcome.recorded, outcome.notify, shipment.status) == (True, "delayed", "held")


def test_a_held_shipment_must_not_be_picked_up():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    with pytest.raises(InvalidTransition, match=r"held for a change of the order .*must not be handed over"):
        shipment.record("picked_up", at(2))

    assert (shipment.status, [e.type for e in shipment.events]) == ("held", ["booked", "held"])


def test_a_rebooking_never_keeps_the_tracking_number_it_replaces():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    with pytest.raises(ValueError, match="new tracking number"):
        shipment.rebook("CH1", carrier="SF Express", mode="express", tracking_number="SF000000000001",
                        consignee=Consignee("Wang Li", "上海市"), lines=(), amount=1, at=at(2))  # fmt: skip

    assert (shipment.status, shipment.bookings) == ("held", ("",))


def test_a_held_shipment_has_no_packing_list_until_it_is_booked_again():
    shipment = a_booked_shipment()
    shipment.hold("CH1", at(1))

    with pytest.raises(InvalidTransition, match="held for change CH1"):
        packing_list(shipment, "13812345678")
    rebook(shipment, "CH1")
    assert packing_list(shipment, "13812345678").tracking_number == "DEP000000000002"
