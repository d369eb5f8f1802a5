"""Changing an accepted order (issue 8, R7.2, R4.2): the plan, the steps and where a change ends.

The order of the builders at ``supply_raised`` waits for stock: LAMP-1 x2 short on production
order MO-1 (open), SHADE-R x3 reserved.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from services.intake.domain import changes as ch
from services.intake.domain import saga
from services.intake.domain.errors import (
    ChangeInProgress,
    ChangeNotPossible,
    MergeMismatch,
    OrderInvalid,
    OrderShipped,
)
from services.intake.domain.screening import Policy
from shared import contracts as c
from tests.unit.intake.builders import AT, new_id


def lines_with(order, **quantities):
    return [replace(li, quantity=quantities.get(li.sku.replace("-", "_"), li.quantity)) for li in order.lines]


def reply(order, event):
    return saga.on_reply(order, event, message_id=new_id(), at=AT)


def test_the_preview_names_stock_credit_supply_and_production_and_changes_nothing(make):
    order = make.order("supply_raised")
    before = copy.deepcopy(order)

    planned = ch.plan(order, lines_with(order, LAMP_1=1, SHADE_R=5))
    view = planned.view(available={"SHADE-R": 1})

    assert order == before
    rows = {row["sku"]: row for row in view["stock"]}
    assert rows["LAMP-1"]["release"] == 1 and rows["LAMP-1"]["production_must_agree"]
    assert "shrink or cancel" in rows["LAMP-1"]["supply"]
    assert rows["SHADE-R"] == {
        "sku": "SHADE-R",
        "before": 3,
        "after": 5,
        "reserve": 2,
        "available_now": 1,
        "would_be_short": 1,
        "supply": "raise or enlarge supply for 1 units",
    }
    assert view["credit"]["change"] == planned.new_total - order.total == -12000 + 2 * 3000
    assert view["production_must_agree"] == ["LAMP-1"]


def test_a_change_that_touches_open_production_asks_fulfillment_first(make):
    order = make.order("supply_raised")

    sent = saga.change_order(order, ch.Asked(lines=lines_with(order, LAMP_1=1)), "rep.li", AT)

    assert sent == [
        c.CheckSupplyChange(order_id=order.order_id, change_id=f"{order.order_id}:c1", skus=["LAMP-1"])
    ]
    assert order.change is not None and order.change.status == "checking_supply"
    assert order.history[-1].event == "change_requested" and order.history[-1].by == "rep.li"


def test_production_that_refuses_ends_the_change_with_nothing_changed(make):
    order = make.order("supply_raised")
    lines, total = list(order.lines), order.total
    saga.change_order(order, ch.Asked(lines=lines_with(order, LAMP_1=1)), "rep.li", AT)

    sent = reply(
        order,
        c.SupplyChangeChecked(
            order_id=order.order_id,
            change_id=f"{order.order_id}:c1",
            refused={"LAMP-1": "production started"},
        ),
    )

    assert sent == [] and order.change is None
    assert order.changes[-1].status == "refused" and "production started" in order.changes[-1].outcome
    assert order.lines == lines and order.total == total and order.status == "awaiting_stock"


def test_credit_refused_ends_the_change_with_nothing_changed(make):
    order = make.order("supply_raised")
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=30)), "rep.li", AT)
    cid = f"{order.order_id}:c1"

    sent = reply(
        order,
        c.CreditAdjusted(
            order_id=order.order_id,
            change_id=cid,
            amount=0,
            accepted=False,
            reason="exposure 10 + 81000 exceeds 50000",
        ),
    )

    assert sent == [] and order.changes[-1].status == "refused"
    assert "exceeds" in order.changes[-1].outcome and order.quantities()["SHADE-R"] == 3


def test_more_units_than_stock_raise_supply_for_the_difference_only(make):
    order = make.order("supply_raised")
    cid = f"{order.order_id}:c1"
    first = saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=6)), "rep.li", AT)
    assert first == [
        c.AdjustCredit(
            order_id=order.order_id,
            change_id=cid,
            customer_id=order.customer_id,
            amount=order.total_of(lines_with(order, SHADE_R=6)),
        )
    ]

    stock = reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True))
    assert stock == [
        c.AdjustStock(
            order_id=order.order_id,
            change_id=cid,
            lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=6)],
        )
    ]

    missing = [
        c.Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7),
        c.Shortage(sku="SHADE-R", quantity=3, sourcing="buy", lead_time_days=3),
    ]
    supply = reply(
        order, c.StockAdjusted(order_id=order.order_id, change_id=cid, reserved=[], missing=missing)
    )
    # LAMP-1's production order already covers its 2: only SHADE-R gets supply, for 3.
    assert supply == [
        c.ChangeSupply(
            order_id=order.order_id,
            change_id=cid,
            priority=order.priority,
            targets=[c.SupplyTarget(sku="SHADE-R", quantity=3, sourcing="buy", lead_time_days=3)],
        )
    ]
    ref = c.SupplyOrderRef(
        supply_order_id="PO-9",
        kind="purchase",
        sku="SHADE-R",
        quantity=3,
        expected_at="2024-05-13T00:00:00+00:00",
    )
    done = reply(order, c.SupplyChanged(order_id=order.order_id, change_id=cid, supply_orders=[ref]))

    assert done == [] and order.status == "awaiting_stock"
    assert order.changes[-1].status == "applied" and order.quantities()["SHADE-R"] == 6
    assert order.supply_orders["PO-9"].quantity == 3
    assert (
        order.history[-1].status == "awaiting_stock"
        and "short: LAMP-1 x2, SHADE-R x3" in order.history[-1].reason
    )


def test_cancelling_the_short_part_of_a_line_leaves_the_order_ready_to_ship(make):
    order = make.order("supply_raised")
    order.confirmation.version = 1  # confirmed once: the change is confirmed again (R2.4)
    cid = f"{order.order_id}:c1"
    lines = ch.line_cancel(order, 1, None, short=True)
    assert [(li.sku, li.quantity) for li in lines] == [("SHADE-R", 3)]  # LAMP-1's 2 were all short

    saga.change_order(order, ch.Asked(kind="line_cancel", lines=lines), "rep.li", AT)
    reply(order, c.SupplyChangeChecked(order_id=order.order_id, change_id=cid))
    reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True))
    sent = reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid))
    assert sent == [
        c.ChangeSupply(
            order_id=order.order_id,
            change_id=cid,
            priority=order.priority,
            targets=[c.SupplyTarget(sku="LAMP-1", quantity=0)],
        )
    ]

    sent = reply(order, c.SupplyChanged(order_id=order.order_id, change_id=cid, cancelled=["MO-1"]))

    assert order.status == "ready_to_ship" and [type(s) for s in sent] == [c.CreateShipment]
    assert sent[0].lines == [c.LineQty(sku="SHADE-R", quantity=3)]  # type: ignore[attr-defined]
    assert order.supply_orders["MO-1"].status == "cancelled" and order.confirmation.version == 2


def test_a_stock_reserved_for_the_new_quantities_during_the_change_counts_at_its_end(make):
    order = make.order("supply_raised")
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=2)), "rep.li", AT)
    assert order.change.status == "adjusting_credit"  # SHADE-R has no open supply: nothing to check
    reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True))
    # The production order arrived meanwhile: inventory reserved the new quantities (a StockReserved
    # for the old ones would be from before the change and count for nothing).
    reply(
        order,
        c.StockReserved(
            order_id=order.order_id,
            lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=3)],
        ),
    )
    assert order.status == "awaiting_stock" and not order.change.reserved_meanwhile
    reply(
        order,
        c.StockReserved(
            order_id=order.order_id,
            lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=2)],
        ),
    )
    assert order.status == "awaiting_stock" and order.change.reserved_meanwhile

    missing = [c.Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7)]
    sent = reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid, missing=missing))

    assert order.status == "ready_to_ship" and [type(s) for s in sent] == [c.CreateShipment]


def test_a_reply_of_the_change_delivered_twice_counts_once(make):
    order = make.order("supply_raised")
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)
    adjusted = c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True)
    assert len(reply(order, adjusted)) == 1
    after = copy.deepcopy(order)

    assert saga.on_reply(order, adjusted, message_id=new_id(), at=AT) == []
    order.saga.processed = after.saga.processed  # the one thing a reply that changes nothing may add
    assert order == after


@pytest.mark.parametrize(
    ("stage", "error"),
    [
        ("pending_review", ChangeNotPossible),
        ("approved", ChangeNotPossible),
        ("ready_to_ship", ChangeNotPossible),  # its carrier is being booked: a moment later it can
        ("shipped", OrderShipped),
        ("completed", OrderShipped),
    ],
)
def test_where_an_order_cannot_change_the_409_says_why(make, stage, error):
    order = make.order(stage)
    with pytest.raises(error) as raised:
        saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=1)), "rep.li", AT)
    assert raised.value.status == 409 and order.changes == []
    if error is OrderShipped:
        assert "returns" in raised.value.fields


def test_one_change_at_a_time_and_no_cancel_while_it_runs(make):
    order = make.order("supply_raised")
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)

    with pytest.raises(ChangeInProgress):
        saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=5)), "rep.wang", AT)
    with pytest.raises(ChangeInProgress):
        saga.cancel(order, "shop", "changed my mind", AT)


def test_a_change_that_changes_nothing_or_cancels_everything_is_refused(make):
    order = make.order("supply_raised")
    with pytest.raises(OrderInvalid):
        saga.change_order(order, ch.Asked(lines=list(order.lines)), "rep.li", AT)
    with pytest.raises(OrderInvalid):
        ch.line_cancel(order, 3, None, short=False)
    with pytest.raises(OrderInvalid):
        ch.line_cancel(order, 2, 4, short=False)  # SHADE-R has 3
    with pytest.raises(ChangeNotPossible):
        ch.line_cancel(order, 2, None, short=True)  # nothing of SHADE-R is short


def test_a_new_address_or_date_alone_applies_at_once(make):
    order = make.order("supply_raised")

    sent = saga.change_order(order, ch.Asked(delivery_address="8 Huaihai Road, Shanghai"), "rep.li", AT)

    assert sent == [] and order.delivery_address == "8 Huaihai Road, Shanghai"
    assert order.changes[-1].status == "applied" and order.change is None


def test_a_change_is_stored_and_read_back_as_it_was(make):
    from services.intake.adapters import from_doc, to_fields

    order = make.order("supply_raised")
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=6), reason="more shades"), "rep.li", AT)
    order.changes[-1].missing = {"SHADE-R": 3}
    order.changes[-1].absorbed = True
    order.saga.booking = order.changes[-1].change_id

    read = from_doc(to_fields(order))
    assert read.changes == order.changes and read.saga == order.saga


# --- a change once the carrier is booked (R7.2): the shipment is held, then booked again -----------


def held(order, cid, **fields):
    return c.ShipmentHeld(order_id=order.order_id, change_id=cid, shipment_id="SH-1", **fields)


def credit(order, cid, accepted=True):
    return c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=accepted,
                            reason="" if accepted else "over the credit limit")  # fmt: skip


def test_a_change_of_a_booked_order_holds_the_shipment_then_books_it_again_with_the_new_lines(make):
    order = make.order("booked")
    cid = f"{order.order_id}:c1"

    sent = saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)

    assert sent == [c.HoldShipment(order_id=order.order_id, change_id=cid)]
    assert order.change.status == "holding_shipment"
    assert [type(s) for s in reply(order, held(order, cid))] == [c.AdjustCredit]
    assert [type(s) for s in reply(order, credit(order, cid))] == [c.AdjustStock]
    [booking] = reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid))

    assert isinstance(booking, c.CreateShipment) and booking.booking == cid
    assert {ln.sku: ln.quantity for ln in booking.lines} == {"LAMP-1": 2, "SHADE-R": 4}
    assert booking.amount == order.total and order.status == "ready_to_ship"
    assert order.changes[-1].status == "applied" and order.saga.steps["shipment"] == "started"
    rebooked = make.shipment_created(order).model_copy(update={"tracking_number": "SF999"})
    reply(order, rebooked)
    assert order.saga.steps["shipment"] == "done" and order.tracking_numbers == ["SF100200300", "SF999"]


def test_a_new_address_of_a_booked_order_is_booked_again_there(make):
    order = make.order("booked")
    cid = f"{order.order_id}:c1"

    sent = saga.change_order(order, ch.Asked(delivery_address="8 Huaihai Road, Shanghai"), "rep.li", AT)
    assert [type(s) for s in sent] == [c.HoldShipment]
    [booking] = reply(order, held(order, cid))

    assert isinstance(booking, c.CreateShipment) and booking.booking == cid
    assert booking.delivery_address == order.delivery_address == "8 Huaihai Road, Shanghai"
    assert order.changes[-1].status == "applied" and order.status == "ready_to_ship"


def test_goods_that_left_before_the_hold_make_the_change_a_return(make):
    order = make.order("booked")
    cid, total = f"{order.order_id}:c1", order.total
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)

    sent = reply(order, make.dispatched(order))  # the carrier was faster than the hold

    assert order.status == "shipped" and order.changes[-1].status == "refused"
    assert "return" in order.changes[-1].outcome
    assert [type(s) for s in sent] == [c.CommitStock, c.IssueInvoice] and sent[1].total == total
    assert reply(order, held(order, cid, held=False, reason="the goods left")) == []
    assert order.quantities() == {"LAMP-1": 2, "SHADE-R": 3}


def test_a_hold_refused_ends_the_change_and_the_order_ships_as_it_was(make):
    order = make.order("booked")
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)

    assert reply(order, held(order, cid, held=False, reason="shipment SH-1 is dispatched")) == []

    assert order.changes[-1].status == "refused" and "SH-1 is dispatched" in order.changes[-1].outcome
    assert order.status == "ready_to_ship" and order.change is None
    assert [type(s) for s in reply(order, make.dispatched(order))] == [c.CommitStock, c.IssueInvoice]


def test_a_refused_change_books_the_held_shipment_again_as_it_was(make):
    order = make.order("booked")
    cid, total = f"{order.order_id}:c1", order.total
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=40)), "rep.li", AT)
    reply(order, held(order, cid))

    [booking] = reply(order, credit(order, cid, accepted=False))

    assert isinstance(booking, c.CreateShipment) and booking.booking == cid and booking.amount == total
    assert {ln.sku: ln.quantity for ln in booking.lines} == {"LAMP-1": 2, "SHADE-R": 3}
    assert order.changes[-1].status == "refused" and order.status == "ready_to_ship"


def booked_and_made_short(make):
    """A booked order changed to 6 shades, 3 of them missing: its shipment held, supply to change."""
    order = make.order("booked")
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=6)), "rep.li", AT)
    reply(order, held(order, cid))
    reply(order, credit(order, cid))
    missing = [c.Shortage(sku="SHADE-R", quantity=3, sourcing="buy", lead_time_days=3)]
    return order, cid, reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid, missing=missing))


def test_a_booked_order_made_short_keeps_its_shipment_held_until_the_stock_is_complete(make):
    order, cid, [supply] = booked_and_made_short(make)
    assert isinstance(supply, c.ChangeSupply) and supply.targets[0].quantity == 3
    ref = c.SupplyOrderRef(supply_order_id="PO-1", kind="purchase", sku="SHADE-R", quantity=3,
                           expected_at="2024-05-17T00:00:00+00:00")  # fmt: skip

    assert reply(order, c.SupplyChanged(order_id=order.order_id, change_id=cid, supply_orders=[ref])) == []
    assert order.status == "awaiting_stock" and order.changes[-1].status == "applied"

    complete = c.StockReserved(
        order_id=order.order_id,
        lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=6)],
    )
    [booking] = reply(order, complete)
    assert isinstance(booking, c.CreateShipment) and booking.booking == cid
    assert order.status == "ready_to_ship"


def test_a_cancel_while_the_shipment_is_held_cancels_it_first(make):
    order, cid, _ = booked_and_made_short(make)
    reply(order, c.SupplyChanged(order_id=order.order_id, change_id=cid))
    assert order.status == "awaiting_stock"

    assert saga.cancel(order, "shop", "no longer needed", AT) == [c.CancelShipment(order_id=order.order_id)]


# --- merging two orders (R1.8) -------------------------------------------------------------------


def two_waiting_orders(make):
    """Two orders of one customer, phone and address, both waiting for stock."""
    first = make.order("supply_raised")
    second = make.order("supply_raised")
    return first, second


def test_a_merge_is_refused_naming_every_field_that_differs(make):
    first = make.order("supply_raised")
    second = make.order("supply_raised", delivery_address="9 Other Road", contact_phone="13900000000")

    with pytest.raises(MergeMismatch) as refused:
        saga.merge_away(second, first, "rep.li", "one parcel", AT)

    assert set(refused.value.fields) == {"delivery_address", "contact.phone"} and refused.value.status == 409
    assert second.status == "awaiting_stock" and second.merged_into is None


def test_the_merged_order_gives_everything_back_then_the_other_takes_its_lines_on(make):
    first, second = two_waiting_orders(make)
    total = first.total + second.total  # gross: the builders' prices include VAT

    undo = saga.merge_away(second, first, "rep.li", "one parcel", AT)
    saga.merge_in(first, second, "rep.li", "one parcel", AT)
    assert second.status == "cancelling" and second.merged_into == first.order_id
    assert first.change is not None and first.change.status == "absorbing" and first.change.kind == "merge"
    with pytest.raises(ChangeInProgress):  # frozen while it waits for the other's lines
        saga.cancel(first, "shop", "no", AT)

    # The second order's compensations run as a cancellation's do, newest first.
    sent = undo
    absorbed: list[c.Command] = []
    while sent:
        [command] = sent
        if isinstance(command, c.AbsorbOrder):
            absorbed.append(command)
            break
        sent = reply(second, make.compensation_reply(command))
    assert second.status == "merged" and second.history[-1].reason == f"merged into {first.order_id}"
    [absorb] = absorbed
    assert absorb.order_id == first.order_id and absorb.from_order == second.order_id

    credit = saga.on_absorbed(first, absorb, AT)
    # The lines of both at their prices; the discount and freight stay the first order's.
    merged_total = first.total_of(first.change.lines)
    assert merged_total == total - second.freight + second.discount
    assert credit == [
        c.AdjustCredit(
            order_id=first.order_id,
            change_id=f"{first.order_id}:c1",
            customer_id=first.customer_id,
            amount=merged_total,
        )
    ]
    assert first.quantities() == {"LAMP-1": 2, "SHADE-R": 3}  # taken on only once the change applies
    assert first.change.lines and {li.sku: li.quantity for li in first.change.lines} == {
        "LAMP-1": 4,
        "SHADE-R": 6,
    }
    assert saga.on_absorbed(first, absorb, AT) == []  # a repeat does nothing


def test_a_merge_into_a_booked_order_holds_its_shipment_while_the_other_gives_back(make):
    first, second = make.order("booked"), make.order("supply_raised")
    cid = f"{first.order_id}:c1"
    shades = [c.PricedLine(sku="SHADE-R", quantity=3, unit_price=3000, amount=9000)]
    absorb = c.AbsorbOrder(order_id=first.order_id, from_order=second.order_id, lines=shades)

    saga.merge_away(second, first, "rep.li", "one parcel", AT)
    assert saga.merge_in(first, second, "rep.li", "one parcel", AT) == [
        c.HoldShipment(order_id=first.order_id, change_id=cid)
    ]
    assert saga.on_absorbed(first, absorb, AT) == []  # the lines came first: kept for the hold's answer
    assert first.change.absorbed and first.change.status == "holding_shipment"

    assert [type(s) for s in reply(first, held(first, cid))] == [c.AdjustCredit]
    assert first.saga.booking == cid


def test_a_booked_order_is_not_merged_away_but_the_other_may_be_merged_into_it(make):
    booked, waiting = make.order("booked"), make.order("supply_raised")

    with pytest.raises(ChangeNotPossible, match=f"merge {waiting.order_id} into it instead"):
        saga.merge_away(booked, waiting, "rep.li", "one parcel", AT)
    assert booked.status == "ready_to_ship" and booked.merged_into is None
    assert [type(s) for s in saga.merge_away(waiting, booked, "rep.li", "one parcel", AT)]


def test_a_merge_that_cannot_be_taken_on_is_flagged_for_a_person(make):
    first, second = make.order("booked"), make.order("supply_raised")
    cid = f"{first.order_id}:c1"
    saga.merge_away(second, first, "rep.li", "one parcel", AT)
    saga.merge_in(first, second, "rep.li", "one parcel", AT)

    reply(first, held(first, cid, held=False, reason="shipment SH-1 is dispatched"))

    assert "merge_failed" in first.flags and first.history[-1].event == "merge_failed"
    assert second.order_id in first.history[-1].reason


def test_lines_that_arrive_without_a_change_open_one_when_the_order_still_can(make):
    first, second = two_waiting_orders(make)
    absorb = c.AbsorbOrder(
        order_id=first.order_id,
        from_order=second.order_id,
        lines=[c.PricedLine(sku="SHADE-R", quantity=1, unit_price=3000, amount=3000)],
    )

    sent = saga.on_absorbed(first, absorb, AT)  # the crash came between the merge's two writes

    assert [type(s) for s in sent] == [c.AdjustCredit] and first.change.merge_from == second.order_id
    shipped = make.order("shipped")
    assert saga.on_absorbed(shipped, absorb.model_copy(update={"order_id": shipped.order_id}), AT) == []
    assert "merge_failed" in shipped.flags  # too late to take them on: a person looks


def test_money_during_a_change_is_recorded_and_judged_against_the_new_total(make):
    policy = Policy(sign_off_terms=())  # no manager's sign-off: straight to the gate
    order = make.order("ready_to_ship", policy=policy, payment_terms="prepaid")  # full payment to ship
    assert order.status == "awaiting_payment"
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)

    # The old total arrives while the change runs: recorded, and the gate is not judged yet.
    paid = c.PaymentReceived(
        order_id=order.order_id, payment_id="P-1", amount=order.total, paid_total=order.total
    )
    assert reply(order, paid) == [] and order.payments.paid == order.total
    reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True))
    reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid))

    # The new total is more than was paid: the order waits at the gate for the rest.
    assert order.status == "awaiting_payment" and order.payments.due == order.total
    assert order.amount_due == 3000  # one more shade


def test_money_paid_beyond_a_lower_total_is_refunded_and_the_order_knows(make):
    policy = Policy(sign_off_terms=())
    order = make.order("ready_to_ship", policy=policy, payment_terms="prepaid")
    cid, total = f"{order.order_id}:c1", order.total
    reply(order, c.PaymentReceived(order_id=order.order_id, payment_id="P-1", amount=total, paid_total=total))
    assert order.status == "ready_to_ship"
    reply(order, make.shipment_created(order))
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=1)), "rep.li", AT)
    reply(order, held(order, cid))

    reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=total - 6000, accepted=True,
                                  refunded=6000))  # fmt: skip

    assert (order.payments.paid, order.payments.refunded) == (total - 6000, 6000)
    assert "6000 paid beyond the new total is refunded" in order.history[-1].reason
    reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid))
    assert order.total == total - 6000 and order.amount_due == 0 and order.status == "ready_to_ship"


def test_a_booked_prepaid_order_changed_up_waits_for_the_rest_then_books_its_shipment_again(make):
    order = make.order("ready_to_ship", policy=Policy(sign_off_terms=()), payment_terms="prepaid")
    cid, total = f"{order.order_id}:c1", order.total
    reply(order, c.PaymentReceived(order_id=order.order_id, payment_id="P-1", amount=total, paid_total=total))
    reply(order, make.shipment_created(order))
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=4)), "rep.li", AT)
    reply(order, held(order, cid))
    reply(order, credit(order, cid))

    assert reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid)) == []
    assert order.status == "awaiting_payment" and order.amount_due == 3000  # the shipment stays held

    more = c.PaymentReceived(order_id=order.order_id, payment_id="P-2", amount=3000, paid_total=total + 3000)
    [booking] = reply(order, more)
    assert isinstance(booking, c.CreateShipment) and booking.booking == cid and booking.amount == order.total
    assert order.status == "ready_to_ship"


def test_a_stock_reserved_from_before_an_applied_change_moves_nothing(make):
    order = make.order("supply_raised")
    old = make.stock_reserved(order)  # the old quantities: LAMP-1 x2, SHADE-R x3
    cid = f"{order.order_id}:c1"
    saga.change_order(order, ch.Asked(lines=lines_with(order, SHADE_R=6)), "rep.li", AT)
    reply(order, c.CreditAdjusted(order_id=order.order_id, change_id=cid, amount=1, accepted=True))
    missing = [
        c.Shortage(sku="SHADE-R", quantity=3, sourcing="buy", lead_time_days=3),
        c.Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7),
    ]
    reply(order, c.StockAdjusted(order_id=order.order_id, change_id=cid, missing=missing))
    reply(order, c.SupplyChanged(order_id=order.order_id, change_id=cid))
    assert order.status == "awaiting_stock" and order.changes[-1].status == "applied"

    assert reply(order, old) == [] and order.status == "awaiting_stock"
    new = c.StockReserved(
        order_id=order.order_id,
        lines=[c.LineQty(sku="LAMP-1", quantity=2), c.LineQty(sku="SHADE-R", quantity=6)],
    )
    assert [type(s) for s in reply(order, new)] == [c.CreateShipment] and order.status == "ready_to_ship"
