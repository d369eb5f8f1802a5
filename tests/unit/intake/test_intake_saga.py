"""The order saga forward: every transition of the table in services/intake/domain/saga.py."""

from datetime import date

import pytest

from services.intake.domain import saga
from services.intake.domain.errors import InvalidTransition
from services.intake.domain.screening import Policy
from shared import contracts as c


def statuses(order):
    return [entry.status for entry in order.history if entry.status]


def test_placing_an_order_asks_billing_to_hold_its_total(make):
    order, commands = make.place()

    assert order.status == "pending_review"
    assert commands == [
        c.ReserveCredit(order_id=order.order_id, customer_id="C-ACME", amount=33500, payment_terms="credit")
    ]
    assert order.saga.steps == {"credit": "started"}
    assert order.history[0].status == "pending_review" and order.history[0].at == make.at


def test_reserved_credit_approves_the_order_and_reserves_every_sku(make):
    order, _ = make.place()

    commands = saga.on_reply(order, make.credit_reserved(order))

    assert order.status == "approved"
    assert commands == [
        c.ReserveStock(
            order_id=order.order_id,
            priority="normal",
            lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=3)],
        )
    ]
    assert order.saga.steps == {"credit": "done", "stock": "started"}


def test_credit_over_the_limit_puts_the_order_on_hold_for_a_person(make):
    order, _ = make.place()

    commands = saga.on_reply(order, make.credit_refused(order))

    assert commands == []
    assert order.status == "on_hold"
    assert order.history[-1].reason == "over the credit limit"
    assert order.history[-1].by == "billing"


def test_approving_an_order_held_for_credit_forces_the_reservation(make):
    order = make.order("on_hold")

    commands = saga.approve(order, by="manager.wang", reason="long-standing customer")

    assert commands == [
        c.ReserveCredit(
            order_id=order.order_id,
            customer_id="C-ACME",
            amount=order.total,
            force=True,
            payment_terms="credit",
        )
    ]
    assert order.status == "pending_review"
    assert order.history[-1].by == "manager.wang"
    assert "long-standing customer" in order.history[-1].reason


def test_a_forced_reservation_then_continues_as_usual(make):
    order = make.order("on_hold")
    saga.approve(order, by="manager.wang", reason="ok")

    commands = saga.on_reply(order, make.credit_reserved(order))

    assert order.status == "approved"
    assert [type(cmd) for cmd in commands] == [c.ReserveStock]


def test_a_stale_limit_exceeded_after_approval_is_ignored(make):
    order = make.order("on_hold")
    saga.approve(order, by="manager.wang", reason="ok")

    commands = saga.on_reply(order, make.credit_refused(order))

    assert commands == [] and order.status == "pending_review"


def test_rejecting_an_order_held_for_credit_ends_it_with_nothing_to_undo(make):
    order = make.order("on_hold")

    commands = saga.reject(order, by="manager.wang", reason="unpaid invoices")

    assert commands == []
    assert order.status == "rejected"
    assert order.history[-1].by == "manager.wang" and order.history[-1].reason == "unpaid invoices"


@pytest.mark.parametrize("action", [saga.approve, saga.reject])
def test_only_an_order_on_hold_can_be_approved_or_rejected(make, action):
    order = make.order("approved")

    with pytest.raises(InvalidTransition):
        action(order, by="x", reason="y")

    assert order.status == "approved"


def test_a_large_order_waits_for_a_manager_after_its_credit_is_held(make):
    order = make.order("approved", policy=Policy(approval_over=10_000))

    assert order.status == "on_hold" and order.saga.hold == "approval"

    commands = saga.approve(order, by="gm.zhao", reason="strategic account")

    assert order.status == "approved"
    assert [type(cmd) for cmd in commands] == [c.ReserveStock]


def test_rejecting_a_large_order_gives_its_held_credit_back(make):
    order = make.order("approved", policy=Policy(approval_over=10_000))

    commands = saga.reject(order, by="gm.zhao", reason="margin too thin")

    assert commands == [c.ReleaseCredit(order_id=order.order_id)]
    assert order.status == "rejected"
    saga.on_reply(order, make.compensation_reply(commands[0]))
    assert order.saga.steps["credit"] == "compensated" and order.status == "rejected"


def test_reserved_stock_books_a_shipment_with_the_delivery_details(make):
    order = make.order("approved")

    commands = saga.on_reply(order, make.stock_reserved(order))

    assert order.status == "ready_to_ship"
    assert commands == [
        c.CreateShipment(
            order_id=order.order_id,
            customer_id="C-ACME",
            delivery_address="1 Nanjing Road, Shanghai",
            contact_name="Li Lei",
            amount=order.total,
            priority="normal",
            lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=3)],
        )
    ]


def test_a_shortage_raises_supply_for_the_short_lines_only(make):
    order = make.order("approved")
    short = make.stock_short(order)

    commands = saga.on_reply(order, short)

    assert order.status == "awaiting_stock"
    assert commands == [c.RaiseSupply(order_id=order.order_id, shortages=short.shortages, priority="normal")]


def test_raised_supply_is_recorded_and_sets_the_expected_delivery_date(make):
    order = make.order("awaiting_stock")

    commands = saga.on_reply(order, make.supply_raised(order, expected_at="2024-05-17T00:00:00+00:00"))

    assert commands == []
    assert order.supply_orders["MO-1"].kind == "production"
    assert order.expected_delivery == date(2024, 5, 17)
    assert "late_delivery" not in order.flags  # required by 2024-05-20


def test_supply_arriving_after_the_required_date_flags_a_late_delivery(make):
    order = make.order("awaiting_stock")

    saga.on_reply(order, make.supply_raised(order, expected_at="2024-06-30T00:00:00+00:00"))

    assert "late_delivery" in order.flags
    assert order.history[-1].event == "expected_delivery_updated"
    assert "tell the customer" in order.history[-1].reason


def test_completed_supply_is_received_into_stock_once(make):
    order = make.order("supply_raised")

    first = saga.on_reply(order, make.supply_completed(order))
    again = saga.on_reply(order, make.supply_completed(order))

    assert first == [
        c.ReceiveSupply(order_id=order.order_id, supply_order_id="MO-1", sku="LAMP-1", quantity=2)
    ]
    assert again == []
    assert order.status == "awaiting_stock"


def test_a_completion_that_overtakes_supply_raised_is_still_received(make):
    order = make.order("awaiting_stock")

    commands = saga.on_reply(order, make.supply_completed(order))
    saga.on_reply(order, make.supply_raised(order))

    assert [type(cmd) for cmd in commands] == [c.ReceiveSupply]
    assert order.supply_orders["MO-1"].status == "completed"


def test_once_every_line_is_held_the_waiting_order_books_its_shipment(make):
    order = make.order("supply_raised")
    saga.on_reply(order, make.supply_completed(order))

    commands = saga.on_reply(order, make.stock_reserved(order))

    assert order.status == "ready_to_ship"
    assert [type(cmd) for cmd in commands] == [c.CreateShipment]


def test_a_created_shipment_records_its_tracking_number(make):
    order = make.order("ready_to_ship")

    commands = saga.on_reply(order, make.shipment_created(order))

    assert commands == []
    assert order.tracking_numbers == ["SF100200300"] and order.carrier == "SF Express"
    assert order.saga.steps["shipment"] == "done"


def test_dispatch_ships_the_order_commits_its_stock_and_requests_the_invoice(make):
    order = make.order("booked")

    commands = saga.on_reply(order, make.dispatched(order))

    assert order.status == "shipped"
    assert commands == [
        c.CommitStock(order_id=order.order_id),
        c.IssueInvoice(
            order_id=order.order_id,
            customer_id="C-ACME",
            discount=500,
            freight=1000,
            total=33500,
            lines=[
                c.PricedLine(sku="LAMP-1", quantity=2, unit_price=12000, amount=24000),
                c.PricedLine(sku="SHADE-R", quantity=3, unit_price=3000, amount=9000),
            ],
        ),
    ]


def test_a_dispatch_without_a_created_shipment_still_records_the_tracking_number(make):
    order = make.order("ready_to_ship")

    saga.on_reply(order, make.dispatched(order))
    saga.on_reply(order, make.shipment_created(order))

    assert order.status == "shipped" and order.tracking_numbers == ["SF100200300"]


def test_delivery_then_invoice_completes_the_order(make):
    order = make.order("shipped")

    saga.on_reply(order, make.delivered(order))
    assert order.status == "delivered"
    saga.on_reply(order, make.invoice_issued(order))

    assert order.status == "completed"
    assert order.invoice_ids == ["INV-1"]
    assert statuses(order)[-3:] == ["shipped", "delivered", "completed"]


def test_invoice_then_delivery_completes_the_order(make):
    order = make.order("shipped")

    saga.on_reply(order, make.invoice_issued(order))
    assert order.status == "shipped" and order.invoice_ids == ["INV-1"]
    saga.on_reply(order, make.delivered(order))

    assert order.status == "completed"


def test_a_delivery_that_overtakes_the_dispatch_ships_the_order_once(make):
    order = make.order("booked")

    commands = saga.on_reply(order, make.delivered(order))
    later = saga.on_reply(order, make.dispatched(order))

    assert [type(cmd) for cmd in commands] == [c.CommitStock, c.IssueInvoice]
    assert later == []
    assert order.status == "delivered"


def test_committed_stock_is_recorded_once(make):
    order = make.order("shipped")

    saga.on_reply(order, make.stock_committed(order))
    saga.on_reply(order, make.stock_committed(order))

    assert order.saga.steps["commit"] == "done"
    assert [e.event for e in order.history].count("StockCommitted") == 1


def test_a_carrier_delay_flags_the_order_and_records_the_note(make):
    order = make.order("shipped")

    commands = saga.on_reply(order, make.delayed(order))

    assert commands == [] and order.status == "shipped"
    assert "shipment_delayed" in order.flags
    assert (order.history[-1].event, order.history[-1].reason) == ("ShipmentDelayed", "delayed: typhoon")
    assert order.history[-1].by == "logistics"


def test_a_partial_return_then_the_rest_returns_the_order(make):
    order = make.order("completed")

    saga.on_reply(order, make.returned(order, {"LAMP-1": 1}, return_id="RT-1"))
    assert order.status == "partially_returned"
    saga.on_reply(order, make.returned(order, {"LAMP-1": 1, "SHADE-R": 3}, return_id="RT-2"))

    assert order.status == "returned"
    assert order.returned_quantities == {"LAMP-1": 2, "SHADE-R": 3}
    assert [note["credit_note_id"] for note in order.credit_notes] == ["CN-RT-1", "CN-RT-2"]


def test_the_same_return_reported_twice_is_counted_once(make):
    order = make.order("delivered")
    reply = make.returned(order, {"LAMP-1": 1})

    saga.on_reply(order, reply)
    saga.on_reply(order, reply)

    assert order.returned_quantities == {"LAMP-1": 1}
    assert order.status == "partially_returned"


def test_a_rejected_return_is_recorded_and_changes_no_status(make):
    order = make.order("completed")

    saga.on_reply(order, c.ReturnRejected(order_id=order.order_id, return_id="RT-9", reason="used goods"))

    assert order.status == "completed"
    assert order.returns == {"RT-9": "rejected"}
    assert order.history[-1].event == "ReturnRejected"


def test_a_return_for_an_order_that_never_shipped_is_ignored(make):
    order = make.order("ready_to_ship")

    saga.on_reply(order, make.returned(order))

    assert order.status == "ready_to_ship" and order.returned_quantities == {}


def test_every_reply_table_entry_names_a_contract_event():
    assert all(issubclass(reply, c.Event) for reply in saga.REPLY_TYPES)
    assert c.ReturnCompleted in saga.REPLY_TYPES and c.ShipmentDelayed in saga.REPLY_TYPES


def test_a_lost_parcel_flags_the_order_for_a_person_and_keeps_it_shipped(make):
    order = make.order("shipped")
    lost = c.ShipmentLost(order_id=order.order_id, shipment_id="SH-1", note="not scanned for 3 days")

    assert saga.on_reply(order, lost) == []
    assert saga.on_reply(order, lost) == []  # reported twice, recorded once

    assert order.status == "shipped" and "shipment_lost" in order.flags  # R5.3: a person acts
    assert [e.reason for e in order.history if e.event == "ShipmentLost"] == ["lost: not scanned for 3 days"]


def test_a_deadline_no_row_waits_for_changes_nothing(make):
    order = make.order("ready_to_ship")
    before = (order.status, len(order.history), dict(order.saga.steps))

    assert (
        saga.on_deadline(
            order,
            c.DeadlinePassed(
                order_id=order.order_id, timer="confirmation", due_at="2026-12-01T00:00:00+00:00"
            ),
        )
        == []
    )
    assert (order.status, len(order.history), dict(order.saga.steps)) == before


def test_a_deadline_row_fires_when_its_timer_comes_due_in_the_status_it_names(make, monkeypatch):
    order = make.order("on_hold")
    row = saga.Transition(frozenset({"on_hold"}), f"{saga.DEADLINE}approval", ("rejected",), by="intake")
    monkeypatch.setattr(saga, "TABLE", (*saga.TABLE, row))

    assert row.gate == "deadline"
    saga.on_deadline(
        order, c.DeadlinePassed(order_id=order.order_id, timer="approval", due_at="2026-12-01T00:00:00+00:00")
    )
    assert order.status == "rejected" and order.history[-1].by == "intake"
