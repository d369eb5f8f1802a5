"""The saga under redelivery, reordering and cancellation (R7.1, R7.3; docs/ARCHITECTURE.md)."""

import copy

import pytest

from services.intake.domain import saga
from services.intake.domain.errors import InvalidTransition, OrderShipped
from services.intake.domain.screening import Policy
from shared import contracts as c
from tests.unit.intake.builders import STAGES, new_id


def state(order):
    """The order without its list of seen message ids (a replay may add its id; nothing else)."""
    snapshot = copy.deepcopy(order)
    snapshot.saga.processed = []
    return snapshot


def every_reply(make, order):
    """One sample of every reply the saga table knows."""
    oid = order.order_id
    return [
        make.credit_reserved(order),
        make.credit_refused(order),
        make.stock_reserved(order),
        make.stock_short(order),
        make.supply_raised(order),
        make.supply_completed(order),
        make.stock_received(order),
        make.shipment_created(order),
        make.dispatched(order),
        make.delivered(order),
        make.delayed(order),
        c.ShipmentLost(order_id=oid, shipment_id="SH-1"),
        make.stock_committed(order),
        make.invoice_issued(order),
        make.returned(order),
        c.ReturnRejected(order_id=oid, return_id="RT-X", reason="worn"),
        c.CreditReleased(order_id=oid, amount=1),
        c.StockReleased(order_id=oid, lines=[]),
        c.SupplyCancelled(order_id=oid, supply_order_ids=[]),
        c.ShipmentCancelled(order_id=oid),
        c.PaymentReceived(order_id=oid, payment_id="P-1", amount=100, paid_total=100),
        c.PaymentsRefunded(order_id=oid, refund_ids=["RF-1"], amount=100),
        # an order change's replies (issue 8): this one's change id names no change of the order
        c.SupplyChangeChecked(order_id=oid, change_id=f"{oid}:c9"),
        c.CreditAdjusted(order_id=oid, change_id=f"{oid}:c9", amount=1, accepted=True),
        c.StockAdjusted(order_id=oid, change_id=f"{oid}:c9"),
        c.SupplyChanged(order_id=oid, change_id=f"{oid}:c9"),
        c.ShipmentHeld(order_id=oid, change_id=f"{oid}:c9", shipment_id="SH-1"),
    ]


def test_every_reply_in_the_table_has_a_sample(make):
    order = make.order()

    assert {type(reply) for reply in every_reply(make, order)} == set(saga.REPLY_TYPES)


@pytest.mark.parametrize("stage", STAGES)
def test_replaying_any_earlier_reply_changes_nothing(make, stage):
    order = make.order(stage)
    before = state(order)

    sent = [saga.on_reply(order, reply(make, order), message_id=new_id()) for reply in STAGES[stage]]

    assert all(commands == [] for commands in sent)
    assert state(order) == before


@pytest.mark.parametrize("stage", STAGES)
def test_a_reply_the_status_does_not_expect_changes_nothing(make, stage):
    order = make.order(stage)

    for reply in every_reply(make, order):
        if order.status in saga.EXPECTED_IN[type(reply)]:
            continue
        before = state(order)
        assert saga.on_reply(order, reply, message_id=new_id()) == [], type(reply).__name__
        assert state(order) == before, type(reply).__name__


def test_the_same_message_delivered_twice_is_absorbed_once(make):
    order = make.order("shipped")
    message_id = new_id()

    saga.on_reply(order, make.delayed(order), message_id=message_id)
    saga.on_reply(order, make.delayed(order), message_id=message_id)

    assert [e.event for e in order.history].count("ShipmentDelayed") == 1


def test_a_message_type_the_saga_does_not_know_is_ignored(make):
    order = make.order("approved")
    before = state(order)

    note = c.CreditNoteIssued(
        order_id=order.order_id, return_id="RT-1", credit_note_id="CN-1", total=-5, tax=0
    )
    commands = saga.on_reply(order, note)

    assert commands == [] and state(order) == before


COMPENSATIONS = {
    "pending_review": [c.ReleaseCredit],  # ReserveCredit may still be in flight: undo it anyway
    "on_hold": [],  # the credit was refused: nothing is held
    "approved": [c.ReleaseStock, c.ReleaseCredit],
    "awaiting_stock": [c.CancelSupply, c.ReleaseStock, c.ReleaseCredit],
    "supply_raised": [c.CancelSupply, c.ReleaseStock, c.ReleaseCredit],
    "ready_to_ship": [c.CancelShipment, c.ReleaseStock, c.ReleaseCredit],
    "booked": [c.CancelShipment, c.ReleaseStock, c.ReleaseCredit],
    "supplied": [c.CancelShipment, c.CancelSupply, c.ReleaseStock, c.ReleaseCredit],
}


@pytest.mark.parametrize(("stage", "expected"), COMPENSATIONS.items(), ids=list(COMPENSATIONS))
def test_cancelling_undoes_exactly_the_started_steps_newest_first_one_at_a_time(make, stage, expected):
    order = make.order(stage)

    sent = []
    commands = saga.cancel(order, by="customer", reason="changed my mind")
    while commands:
        assert len(commands) == 1 and order.status == "cancelling"
        sent.append(type(commands[0]))
        commands = saga.on_reply(order, make.compensation_reply(commands[0]), message_id=new_id())

    assert sent == expected
    assert order.status == "cancelled"
    assert [e.status for e in order.history if e.status][-2:] == ["cancelling", "cancelled"]
    assert order.history[-1].by == "customer" and order.history[-1].reason == "changed my mind"


def test_cancelling_an_order_waiting_for_a_manager_gives_its_credit_back(make):
    order = make.order("approved", policy=Policy(approval_over=10_000))

    commands = saga.cancel(order, by="sales.li", reason="customer withdrew")

    assert commands == [c.ReleaseCredit(order_id=order.order_id)]


def test_a_compensation_reply_out_of_turn_is_ignored(make):
    order = make.order("booked")
    saga.cancel(order, by="customer", reason="late")

    commands = saga.on_reply(order, c.CreditReleased(order_id=order.order_id, amount=1))

    assert commands == []
    assert order.saga.steps["credit"] == "done" and order.saga.compensating == "shipment"


def test_a_repeated_compensation_reply_moves_the_cancellation_only_once(make):
    order = make.order("booked")
    saga.cancel(order, by="customer", reason="late")
    cancelled = c.ShipmentCancelled(order_id=order.order_id, shipment_id="SH-1")

    first = saga.on_reply(order, cancelled, message_id=new_id())
    again = saga.on_reply(order, cancelled, message_id=new_id())

    assert first == [c.ReleaseStock(order_id=order.order_id)]
    assert again == []


def test_cancelling_twice_sends_nothing_more(make):
    order = make.order("approved")
    saga.cancel(order, by="customer", reason="first")

    assert saga.cancel(order, by="customer", reason="second") == []
    assert order.history[-1].reason == "first"


def test_a_forward_reply_during_cancellation_starts_nothing(make):
    order = make.order("approved")
    saga.cancel(order, by="customer", reason="no longer needed")

    assert saga.on_reply(order, make.stock_reserved(order)) == []
    assert saga.on_reply(order, make.stock_short(order)) == []
    assert order.status == "cancelling"


def test_a_cancelled_order_ignores_late_replies(make):
    order = make.order("pending_review")
    commands = saga.cancel(order, by="customer", reason="oops")
    saga.on_reply(order, make.compensation_reply(commands[0]))
    before = state(order)

    assert saga.on_reply(order, make.credit_reserved(order)) == []
    assert state(order) == before and order.status == "cancelled"


@pytest.mark.parametrize("stage", ["shipped", "delivered", "completed", "returned"])
def test_cancelling_after_shipping_is_refused_and_points_to_returns(make, stage):
    order = make.order(stage)
    before = state(order)

    with pytest.raises(OrderShipped) as refused:
        saga.cancel(order, by="customer", reason="too late")

    assert refused.value.code == "order_shipped" and "return" in refused.value.message
    assert state(order) == before


def test_cancelling_a_partially_returned_order_is_refused(make):
    order = make.order("completed")
    saga.on_reply(order, make.returned(order, {"LAMP-1": 1}))

    with pytest.raises(OrderShipped):
        saga.cancel(order, by="customer", reason="the rest too")


def test_cancelling_a_rejected_order_is_refused(make):
    order = make.order("on_hold")
    saga.reject(order, by="manager", reason="no")

    with pytest.raises(InvalidTransition):
        saga.cancel(order, by="customer", reason="anyway")


def test_a_dispatch_that_overtakes_the_cancellation_ships_the_order_instead(make):
    order = make.order("booked")
    saga.cancel(order, by="customer", reason="late")

    commands = saga.on_reply(order, make.dispatched(order))
    stray = saga.on_reply(order, c.ShipmentCancelled(order_id=order.order_id))

    assert [type(cmd) for cmd in commands] == [c.CommitStock, c.IssueInvoice]
    assert stray == []
    assert order.status == "shipped"
    assert "cancellation_failed" in [e.event for e in order.history]
    assert order.saga.steps["stock"] == "done" and order.saga.steps["credit"] == "done"


def test_the_history_shows_each_compensation_reply_in_the_order_it_was_undone(make):
    order = make.order("supply_raised")

    commands = saga.cancel(order, by="customer", reason="changed my mind")
    while commands:
        commands = saga.on_reply(order, make.compensation_reply(commands[0]))

    events = [e.event for e in order.history if e.event]
    assert events.index("SupplyCancelled") < events.index("StockReleased") < events.index("CreditReleased")


def test_a_delivery_report_that_overtakes_the_cancellation_ships_and_delivers_the_order(make):
    order = make.order("booked")
    saga.cancel(order, by="customer", reason="late")

    commands = saga.on_reply(order, make.delivered(order))

    assert [type(cmd) for cmd in commands] == [c.CommitStock, c.IssueInvoice]
    assert order.status == "delivered"


def test_supply_completed_after_a_cancellation_is_still_received_as_stock(make):
    order = make.order("supply_raised")
    commands = saga.cancel(order, by="customer", reason="no longer needed")

    received = saga.on_reply(order, make.supply_completed(order))
    while commands:
        commands = saga.on_reply(order, make.compensation_reply(commands[0]))
    late = saga.on_reply(order, make.supply_completed(order, supply_order_id="MO-2"))

    assert [type(cmd) for cmd in received + late] == [c.ReceiveSupply, c.ReceiveSupply]
    assert order.status == "cancelled" and order.saga.steps["supply"] == "compensated"


def test_a_report_about_another_shipment_never_replaces_the_orders_own(make):
    """Found by the state machine (issue 9): a stray ShipmentCreated overwrote shipment_id."""
    order = make.order("booked")
    own = order.shipment_id
    stray = c.ShipmentCreated(order_id=order.order_id, shipment_id="SH-OTHER", carrier="EMS", mode="express",
                              tracking_number="EMS999")  # fmt: skip

    assert saga.on_reply(order, stray, message_id=new_id()) == []
    assert order.shipment_id == own and "EMS999" not in order.tracking_numbers
    assert "unknown_shipment_reported" in order.flags


@pytest.mark.parametrize("stage", ["approved", "ready_to_ship"])
def test_a_completed_supply_the_order_never_raised_is_not_received_after_a_cancellation(make, stage):
    """Found by the state machine (issue 9): a stray SupplyCompleted sent ReceiveSupply."""
    order = make.order(stage)
    saga.cancel(order, by="customer", reason="no longer needed")

    assert saga.on_reply(order, make.supply_completed(order), message_id=new_id()) == []
    assert order.supply_orders == {}


def test_a_supply_raised_after_its_completion_fills_the_supply_order_in(make):
    """Found by the reordering e2e test (issue 9): the late SupplyRaised left a stub behind."""
    order = make.order("awaiting_stock")
    saga.on_reply(order, make.supply_completed(order), message_id=new_id())
    saga.on_reply(order, make.supply_raised(order), message_id=new_id())

    known = order.supply_orders["MO-1"]
    assert (known.kind, known.status, known.expected_at[:10]) == ("production", "completed", "2024-05-17")
    assert order.expected_delivery is not None


def test_stock_received_after_the_order_moved_on_is_still_recorded(make):
    """Found by the reordering e2e test (issue 9): only awaiting_stock absorbed StockReceived."""
    order = make.order("supply_raised")
    for reply in (make.supply_completed, make.stock_reserved):  # StockReserved overtook StockReceived
        saga.on_reply(order, reply(order), message_id=new_id())
    assert order.status == "ready_to_ship" and order.supply_orders["MO-1"].status == "completed"
    saga.on_reply(order, make.stock_received(order), message_id=new_id())
    assert order.supply_orders["MO-1"].status == "received"


def test_a_supply_raised_after_the_order_moved_on_is_still_recorded(make):
    order = make.order("awaiting_stock")
    for reply in (make.supply_completed, make.stock_received, make.stock_reserved):
        saga.on_reply(order, reply(order), message_id=new_id())
    assert order.status == "ready_to_ship"

    assert saga.on_reply(order, make.supply_raised(order), message_id=new_id()) == []
    assert order.supply_orders["MO-1"].kind == "production" and order.status == "ready_to_ship"
