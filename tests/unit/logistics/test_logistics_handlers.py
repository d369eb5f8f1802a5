"""Logistics' handlers against the in-memory shipment store (tests/support/fakes_logistics.py):
what a command, a duplicate, a lost race, a tombstone, a hold and rebooking (R7.2) or a carrier's
report writes and sends. The store's behaviour is held to the Mongo adapter's by
tests/integration/logistics/test_shipment_store_contract.py."""

from __future__ import annotations

import pytest

from services.logistics import handlers
from services.logistics.carrier_reports import ShipmentNotFound, report_event
from services.logistics.deps import Logistics
from services.logistics.domain import Consignee, InvalidTransition
from services.logistics.handlers import cancel_shipment, create_shipment, hold_shipment
from services.logistics.settings import Settings
from shared.contracts import (
    CreateShipment,
    HoldShipment,
    LineQty,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentHeld,
)
from shared.envelope import Envelope, reply_id
from tests.support.fakes import FakeBus
from tests.support.fakes_logistics import FakeShipmentStore
from tests.unit.logistics.builders import AT, a_booking, a_cancellation, sent, uid


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def shipments(bus: FakeBus) -> FakeShipmentStore:
    return FakeShipmentStore(bus)


@pytest.fixture
def logistics(shipments: FakeShipmentStore) -> Logistics:
    return Logistics(Settings(), shipments)


def answered_again(bus: FakeBus, shipments: FakeShipmentStore, writes: int, type_: str) -> None:
    """The last two replies are one answer published twice, and nothing was written meanwhile."""
    first, again = bus.published[-2:]
    assert shipments.writes == writes
    assert (again.type, again.message_id, again.payload) == (type_, first.message_id, first.payload)


async def booked(logistics: Logistics, order_id: str | None = None) -> str:
    """Book a shipment for an order; its shipment id."""
    order_id = order_id or uid("SO")
    await create_shipment(a_booking(order_id), sent(a_booking(order_id)), logistics)
    loaded = await logistics.shipments.load(order_id)
    assert loaded is not None
    return loaded.aggregate.shipment_id


# --- booking (R5.1, R5.2) -----------------------------------------------------------------------


async def test_a_booking_writes_one_shipment_and_replies_once(logistics, shipments, bus):
    order_id = uid("SO")
    command = sent(a_booking(order_id))

    await create_shipment(command.message(), command, logistics)

    [reply] = bus.published
    loaded = await shipments.load(order_id)
    assert shipments.writes == 1
    assert (reply.type, reply.payload["shipment_id"]) == ("ShipmentCreated", loaded.aggregate.shipment_id)
    assert reply.message_id == reply_id(command, reply.message())
    assert (loaded.doc["outbox"], loaded.doc["outbox_at"]) == ({}, None)  # cleared by id after the publish


async def test_a_booking_from_an_intake_of_before_issue_7_is_booked_and_its_phone_kept_nowhere(
    logistics, shipments, bus
):
    order_id = uid("SO")
    payload = {**a_booking(order_id).model_dump(mode="json"), "contact_phone": "13812345678"}
    command = sent(a_booking(order_id)).model_copy(update={"payload": payload})  # the old shape

    await create_shipment(command.message(), command, logistics)

    loaded = await shipments.load(order_id)
    assert "contact_phone" not in command.message().model_dump()  # dropped when read, not refused
    assert loaded.aggregate.consignee is not None and loaded.aggregate.consignee.name == "Wang Li"
    assert "13812345678" not in str(loaded.doc) and bus.types() == ["ShipmentCreated"]


async def test_a_duplicate_booking_writes_nothing_and_is_answered_again_under_the_same_message_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = sent(a_booking(order_id))
    await create_shipment(command.message(), command, logistics)

    await create_shipment(command.message(), command, logistics)  # the same delivery again

    first, again = bus.published
    assert shipments.writes == 1
    assert (again.message_id, again.payload) == (first.message_id, first.payload)


async def test_a_booking_racing_its_twin_books_once_and_both_are_answered_under_one_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = sent(a_booking(order_id))

    async def twin() -> None:  # the other copy of the delivery, on another replica, inserts first
        await create_shipment(command.message(), command, logistics)

    shipments.before_next_save.append(twin)
    await create_shipment(command.message(), command, logistics)

    first, again = bus.published
    assert shipments.writes == 1  # the twin's insert; ours was refused by the unique order id
    assert (again.message_id, again.payload["shipment_id"]) == (
        first.message_id,
        first.payload["shipment_id"],
    )


# --- cancelling (R7.1, R7.3) --------------------------------------------------------------------


async def test_cancelling_a_booked_shipment_writes_once_and_replies_once(logistics, shipments, bus):
    order_id = uid("SO")
    shipment_id = await booked(logistics, order_id)
    command = sent(a_cancellation(order_id))

    await cancel_shipment(command.message(), command, logistics)

    reply = bus.published[-1]
    assert shipments.writes == 2  # the booking, then the cancellation
    assert reply.message() == ShipmentCancelled(order_id=order_id, shipment_id=shipment_id)
    assert reply.message_id == reply_id(command, reply.message())
    assert (await shipments.load(order_id)).aggregate.status == "cancelled"


async def test_a_duplicate_cancellation_writes_nothing_and_is_answered_again_under_the_same_message_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    await booked(logistics, order_id)
    command = sent(a_cancellation(order_id))
    await cancel_shipment(command.message(), command, logistics)
    writes = shipments.writes

    await cancel_shipment(command.message(), command, logistics)

    answered_again(bus, shipments, writes, "ShipmentCancelled")


async def test_a_cancellation_after_pickup_writes_nothing_and_replies_nothing(logistics, shipments, bus):
    order_id = uid("SO")
    shipment_id = await booked(logistics, order_id)
    await report_event(logistics, shipment_id, "picked_up", AT, "")
    writes, published = shipments.writes, list(bus.published)
    command = sent(a_cancellation(order_id))

    await cancel_shipment(command.message(), command, logistics)

    assert (shipments.writes, bus.published) == (writes, published)  # the saga learns from ShipmentDispatched
    assert (await shipments.load(order_id)).aggregate.status == "dispatched"


async def test_a_cancellation_losing_its_race_to_the_pickup_is_decided_again_and_replies_nothing(
    logistics, shipments, bus
):
    order_id = uid("SO")
    shipment_id = await booked(logistics, order_id)

    async def pickup() -> None:  # the carrier's report lands between our read and our write
        await report_event(logistics, shipment_id, "picked_up", AT, "")

    shipments.before_next_save.append(pickup)
    command = sent(a_cancellation(order_id))
    await cancel_shipment(command.message(), command, logistics)

    assert bus.types() == ["ShipmentCreated", "ShipmentDispatched"]  # decided again on "dispatched"
    assert (await shipments.load(order_id)).aggregate.status == "dispatched"
    assert shipments.writes == 2  # the booking and the pickup; the cancellation wrote nothing


# --- tombstones: a cancellation that arrives before its booking (ARCHITECTURE.md) ---------------


async def test_a_cancellation_before_the_booking_leaves_a_tombstone_and_replies_without_a_shipment(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = sent(a_cancellation(order_id))

    await cancel_shipment(command.message(), command, logistics)

    [reply] = bus.published
    assert reply.message() == ShipmentCancelled(order_id=order_id, shipment_id=None)
    assert reply.message_id == reply_id(command, reply.message())
    assert shipments.writes == 1 and (await shipments.load(order_id)).aggregate.tombstone


async def test_a_booking_after_its_cancellation_books_nothing_and_replies_nothing(logistics, shipments, bus):
    order_id = uid("SO")
    cancel = sent(a_cancellation(order_id))
    await cancel_shipment(cancel.message(), cancel, logistics)

    late = sent(a_booking(order_id))
    await create_shipment(late.message(), late, logistics)

    assert bus.types() == ["ShipmentCancelled"]
    assert shipments.writes == 1
    assert (await shipments.load(order_id)).aggregate.tombstone


async def test_a_duplicate_cancellation_of_a_tombstone_is_answered_again_under_the_same_message_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = sent(a_cancellation(order_id))
    await cancel_shipment(command.message(), command, logistics)

    await cancel_shipment(command.message(), command, logistics)

    first, again = bus.published
    assert shipments.writes == 1
    assert (again.message_id, again.payload) == (first.message_id, first.payload)


async def test_a_cancellation_racing_the_booking_it_undoes_cancels_the_booking_once_inserted(
    logistics, shipments, bus
):
    order_id = uid("SO")
    booking = sent(a_booking(order_id))

    async def booking_first() -> None:  # the booking inserts between our read and our tombstone
        await create_shipment(booking.message(), booking, logistics)

    shipments.before_next_save.append(booking_first)
    cancel = sent(a_cancellation(order_id))
    await cancel_shipment(cancel.message(), cancel, logistics)

    created, cancelled = bus.published
    assert isinstance(created.message(), ShipmentCreated)
    assert cancelled.message() == ShipmentCancelled(
        order_id=order_id, shipment_id=created.payload["shipment_id"]
    )
    assert (await shipments.load(order_id)).aggregate.status == "cancelled"


# --- carrier reports (R5.3, R5.4) ---------------------------------------------------------------


async def test_a_carrier_report_is_recorded_with_one_write_and_its_notice_sent_once(
    logistics, shipments, bus
):
    shipment_id = await booked(logistics)

    shipment, recorded = await report_event(logistics, shipment_id, "picked_up", AT, "")

    assert recorded and shipment.status == "dispatched"
    assert shipments.writes == 2
    assert bus.types() == ["ShipmentCreated", "ShipmentDispatched"]
    assert bus.published[-1].payload["at"] == AT.isoformat()


async def test_a_repeated_carrier_report_writes_nothing_and_tells_nobody_again(logistics, shipments, bus):
    shipment_id = await booked(logistics)
    await report_event(logistics, shipment_id, "picked_up", AT, "")
    writes, published = shipments.writes, list(bus.published)

    shipment, recorded = await report_event(logistics, shipment_id, "picked_up", AT, "")

    assert not recorded and shipment.status == "dispatched"
    assert (shipments.writes, bus.published) == (writes, published)


async def test_a_transit_scan_is_recorded_but_tells_nobody(logistics, shipments, bus):
    shipment_id = await booked(logistics)
    await report_event(logistics, shipment_id, "picked_up", AT, "")

    shipment, recorded = await report_event(logistics, shipment_id, "in_transit", None, "Shanghai hub")

    assert recorded and [e.type for e in shipment.events][-1] == "in_transit"
    assert bus.types() == ["ShipmentCreated", "ShipmentDispatched"]


async def test_a_carrier_report_that_does_not_fit_the_shipment_writes_nothing(logistics, shipments, bus):
    shipment_id = await booked(logistics)
    writes = shipments.writes

    with pytest.raises(InvalidTransition):
        await report_event(logistics, shipment_id, "delivered", AT, "")  # never picked up

    assert shipments.writes == writes and bus.types() == ["ShipmentCreated"]


async def test_a_carrier_report_on_a_tombstone_or_an_unknown_shipment_is_not_found(logistics, shipments, bus):
    order_id = uid("SO")
    cancel = sent(a_cancellation(order_id))
    await cancel_shipment(cancel.message(), cancel, logistics)
    tomb = (await shipments.load(order_id)).aggregate.shipment_id

    for shipment_id in (tomb, uid("SH")):
        with pytest.raises(ShipmentNotFound):
            await report_event(logistics, shipment_id, "picked_up", AT, "")

    assert shipments.writes == 1 and bus.types() == ["ShipmentCancelled"]


async def test_a_carrier_report_losing_its_race_is_decided_again_on_the_winners_write(
    logistics, shipments, bus
):
    shipment_id = await booked(logistics)

    async def delay_first() -> None:  # another report of the same parcel lands first
        await report_event(logistics, shipment_id, "delayed", AT, "typhoon")

    shipments.before_next_save.append(delay_first)
    shipment, recorded = await report_event(logistics, shipment_id, "picked_up", AT, "")

    assert recorded and [e.type for e in shipment.events] == ["booked", "delayed", "picked_up"]
    assert bus.types() == ["ShipmentCreated", "ShipmentDelayed", "ShipmentDispatched"]
    assert shipments.writes == 3  # the booking, the delay, the pickup: the lost write was not counted


# --- a change of a booked order: hold, then book again (issue 8, R7.2) --------------------------


def a_hold(order_id: str, change_id: str = "CH1") -> HoldShipment:
    return HoldShipment(order_id=order_id, change_id=change_id)


def a_rebooking(order_id: str, change_id: str = "CH1", *, amount: int = 2_000_000) -> CreateShipment:
    """The booking at the end of change ``change_id``: new lines, amount and consignee."""
    return a_booking(order_id, amount=amount).model_copy(update={
        "booking": change_id, "contact_name": "Li Na", "delivery_address": "杭州市西湖区文三路1号",
        "lines": [LineQty(sku="LAMP-RED", quantity=5), LineQty(sku="SHADE-RED", quantity=1)]})  # fmt: skip


async def held(logistics: Logistics, order_id: str, change_id: str = "CH1") -> Envelope:
    """Book the order's shipment and hold it for ``change_id``; the hold as delivered."""
    await booked(logistics, order_id)
    command = sent(a_hold(order_id, change_id))
    await hold_shipment(command.message(), command, logistics)
    return command


async def test_a_hold_writes_once_and_replies_held(logistics, shipments, bus):
    order_id = uid("SO")
    shipment_id = await booked(logistics, order_id)
    command = sent(a_hold(order_id))

    await hold_shipment(command.message(), command, logistics)

    reply = bus.published[-1]
    assert reply.message() == ShipmentHeld(order_id=order_id, change_id="CH1", shipment_id=shipment_id)
    assert reply.message_id == reply_id(command, reply.message())
    stored = (await shipments.load(order_id)).aggregate
    assert (shipments.writes, stored.status, stored.held_by) == (2, "held", "CH1")


async def test_a_duplicate_hold_writes_nothing_and_is_answered_again_under_the_same_message_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = await held(logistics, order_id)
    writes = shipments.writes

    await hold_shipment(command.message(), command, logistics)

    answered_again(bus, shipments, writes, "ShipmentHeld")


async def test_a_hold_after_the_pickup_writes_nothing_and_answers_not_held_with_the_reason(
    logistics, shipments, bus
):
    order_id = uid("SO")
    shipment_id = await booked(logistics, order_id)
    await report_event(logistics, shipment_id, "picked_up", AT, "")
    writes = shipments.writes
    command = sent(a_hold(order_id))

    await hold_shipment(command.message(), command, logistics)
    await hold_shipment(command.message(), command, logistics)  # redelivered: the same answer

    first, again = bus.published[-2:]
    reply = first.message()
    assert isinstance(reply, ShipmentHeld) and (reply.held, reply.shipment_id) == (False, shipment_id)
    assert reply.reason.startswith("the goods left") and "R7.3" in reply.reason
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert first.message_id == reply_id(command, reply)
    assert shipments.writes == writes and (await shipments.load(order_id)).aggregate.status == "dispatched"


async def test_a_hold_for_an_order_with_no_shipment_answers_not_held_and_writes_nothing(
    logistics, shipments, bus
):
    order_id = uid("SO")
    command = sent(a_hold(order_id))

    await hold_shipment(command.message(), command, logistics)

    [reply] = bus.published
    assert reply.message() == ShipmentHeld(
        order_id=order_id, change_id="CH1", shipment_id=None, held=False,
        reason="no carrier is booked for the order")  # fmt: skip
    assert reply.message_id == reply_id(command, reply.message())
    assert shipments.writes == 0 and await shipments.load(order_id) is None


async def test_the_change_books_the_held_shipment_again_with_a_new_tracking_number_and_its_lines(
    logistics, shipments, bus
):
    order_id = uid("SO")
    await held(logistics, order_id)
    first = (await shipments.load(order_id)).aggregate
    command = sent(a_rebooking(order_id))  # above the dedicated-vehicle threshold now

    await create_shipment(command.message(), command, logistics)

    reply = bus.published[-1]
    stored = (await shipments.load(order_id)).aggregate
    assert reply.message() == ShipmentCreated(order_id=order_id, shipment_id=first.shipment_id,
                                              carrier="Deppon Freight", mode="dedicated_vehicle",
                                              tracking_number=stored.tracking_number)  # fmt: skip
    assert reply.message_id == reply_id(command, reply.message())
    assert stored.tracking_number != first.tracking_number and stored.tracking_number.startswith("DEP")
    assert (stored.status, stored.held_by, stored.bookings) == ("booked", None, ("", "CH1"))
    assert (stored.lines, stored.amount) == ((("LAMP-RED", 5), ("SHADE-RED", 1)), 2_000_000)
    assert stored.consignee == Consignee("Li Na", "杭州市西湖区文三路1号")
    assert shipments.writes == 3  # the booking, the hold, the rebooking


async def test_a_rebooking_with_the_same_carrier_still_gets_a_new_tracking_number(
    logistics, shipments, bus, monkeypatch
):
    order_id = uid("SO")
    await held(logistics, order_id)
    first = (await shipments.load(order_id)).aggregate
    draws = iter([int(first.tracking_number[-12:]), 7])  # the first draw repeats the old number
    monkeypatch.setattr(handlers.secrets, "randbelow", lambda _: next(draws))
    command = sent(a_rebooking(order_id, amount=50_000))

    await create_shipment(command.message(), command, logistics)

    stored = (await shipments.load(order_id)).aggregate
    assert (stored.carrier, stored.mode) == (first.carrier, first.mode)
    assert stored.tracking_number == "SF000000000007" != first.tracking_number
    assert bus.published[-1].payload["tracking_number"] == "SF000000000007"


async def test_a_redelivered_rebooking_writes_nothing_and_is_answered_again_under_the_same_message_id(
    logistics, shipments, bus
):
    order_id = uid("SO")
    await held(logistics, order_id)
    command = sent(a_rebooking(order_id))
    await create_shipment(command.message(), command, logistics)
    writes = shipments.writes

    await create_shipment(command.message(), command, logistics)

    answered_again(bus, shipments, writes, "ShipmentCreated")


async def test_the_first_booking_redelivered_while_the_shipment_is_held_does_nothing(
    logistics, shipments, bus
):
    order_id = uid("SO")
    first_booking = sent(a_booking(order_id))
    await create_shipment(first_booking.message(), first_booking, logistics)
    hold = sent(a_hold(order_id))
    await hold_shipment(hold.message(), hold, logistics)
    writes, published = shipments.writes, list(bus.published)

    await create_shipment(first_booking.message(), first_booking, logistics)

    assert (shipments.writes, bus.published) == (writes, published)
    stored = (await shipments.load(order_id)).aggregate
    assert (stored.status, stored.held_by, stored.bookings) == ("held", "CH1", ("",))


async def test_a_late_hold_of_a_change_that_booked_again_since_keeps_the_new_booking(
    logistics, shipments, bus
):
    order_id = uid("SO")
    hold = await held(logistics, order_id)
    rebooking = sent(a_rebooking(order_id))
    await create_shipment(rebooking.message(), rebooking, logistics)
    writes = shipments.writes

    await hold_shipment(hold.message(), hold, logistics)  # the hold, redelivered after the rebooking

    assert shipments.writes == writes and (await shipments.load(order_id)).aggregate.status == "booked"
    first_answer, again = (e for e in bus.published if e.type == "ShipmentHeld")
    assert (again.message_id, again.payload) == (first_answer.message_id, first_answer.payload)


async def test_cancelling_a_held_shipment_cancels_it_and_replies_cancelled(logistics, shipments, bus):
    order_id = uid("SO")
    await held(logistics, order_id)
    shipment_id = (await shipments.load(order_id)).aggregate.shipment_id
    command = sent(a_cancellation(order_id))

    await cancel_shipment(command.message(), command, logistics)

    assert bus.published[-1].message() == ShipmentCancelled(order_id=order_id, shipment_id=shipment_id)
    stored = (await shipments.load(order_id)).aggregate
    assert (stored.status, stored.held_by, shipments.writes) == ("cancelled", None, 3)


async def test_a_pickup_reported_for_a_held_shipment_is_refused_and_writes_nothing(logistics, shipments, bus):
    order_id = uid("SO")
    await held(logistics, order_id)
    shipment_id = (await shipments.load(order_id)).aggregate.shipment_id
    writes, published = shipments.writes, list(bus.published)

    with pytest.raises(InvalidTransition, match="held for a change"):
        await report_event(logistics, shipment_id, "picked_up", AT, "")

    assert (shipments.writes, bus.published) == (writes, published)
