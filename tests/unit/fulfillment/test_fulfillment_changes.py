"""The rules of an order change seen from supply (issue 8, R7.2, R4.2): production that started
cannot change; otherwise each SKU's open supply order follows what is still missing, once per
change id; and the answer is what the supply orders say."""

from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.domain import (
    InvalidQuantity,
    NotProduction,
    Step,
    SupplyOrder,
    SupplyOrderCancelled,
    SupplyOrderCompleted,
    SupplyRequest,
    SupplyStatus,
    applied,
    open_for,
    outcome,
    refusals,
    step_for,
)
from shared.contracts import SupplyChanged, SupplyOrderRef

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


def a_supply_order(**overrides):
    fields = dict(supply_order_id="MO-1", order_id="SO1", sku="LAMP", quantity=5, sourcing="make",
                  lead_time_days=5, now=NOW, default_lead_time_days=7)  # fmt: skip
    return SupplyOrder.raise_for(**{**fields, **overrides})


def started(**overrides):
    order = a_supply_order(**overrides)
    order.start(NOW, "wh.qian")
    return order


# --- starting production (R7.2) -----------------------------------------------------------------


def test_starting_production_records_when_and_who_once():
    order = a_supply_order()

    assert order.start(NOW, "wh.qian") is True
    assert order.start(LATER, "wh.sun") is False  # a repeat: the first start stays

    assert (order.started_at, order.started_by) == (NOW, "wh.qian")
    assert order.status is SupplyStatus.OPEN  # started is not completed


def test_a_purchase_order_cannot_be_started_and_says_why():
    order = a_supply_order(supply_order_id="PO-1", sourcing="buy")

    with pytest.raises(NotProduction) as refused:
        order.start(NOW, "wh.qian")

    assert refused.value.status == 409 and "purchase order" in refused.value.message
    assert order.started_at is None


def test_a_cancelled_or_completed_production_order_cannot_be_started():
    cancelled, completed = a_supply_order(), a_supply_order()
    cancelled.cancel(NOW)
    completed.complete(NOW)

    with pytest.raises(SupplyOrderCancelled):
        cancelled.start(LATER, "wh.qian")
    with pytest.raises(SupplyOrderCompleted):
        completed.start(LATER, "wh.qian")
    assert cancelled.started_at is None and completed.started_at is None


def test_only_open_production_that_started_refuses_a_change_with_the_reason():
    order = started()

    assert order.change_refusal() == (
        f"production of LAMP started at {NOW.isoformat()}; it cannot change (R7.2)"
    )
    assert a_supply_order().change_refusal() is None  # not started
    order.complete(LATER)
    assert order.change_refusal() is None  # its goods are stock now


# --- CheckSupplyChange --------------------------------------------------------------------------


def test_the_check_refuses_only_skus_whose_open_production_started():
    orders = [
        started(supply_order_id="MO-1", sku="LAMP"),
        a_supply_order(supply_order_id="MO-2", sku="BASE"),  # production not started
        a_supply_order(supply_order_id="PO-3", sku="SHADE", sourcing="buy"),
    ]
    done = started(supply_order_id="MO-4", sku="CORD")
    done.complete(LATER)
    orders.append(done)

    refused = refusals(orders, ["LAMP", "BASE", "SHADE", "CORD", "BULB"])  # BULB: no supply order

    assert list(refused) == ["LAMP"]
    assert "production of LAMP started at" in refused["LAMP"] and "(R7.2)" in refused["LAMP"]


# --- one SKU's step -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_quantity", "target", "step"),
    [(None, 3, Step.RAISE), (None, 0, Step.NONE), (5, 5, Step.NONE), (5, 2, Step.RESIZE),
     (5, 8, Step.RESIZE), (5, 0, Step.CANCEL)],
)  # fmt: skip
def test_the_step_follows_the_open_supply_order_and_the_target(open_quantity, target, step):
    open_order = None if open_quantity is None else a_supply_order(quantity=open_quantity)

    assert step_for(open_order, target) is step


@pytest.mark.parametrize("target", [0, 2, 8])
def test_started_production_is_kept_whatever_the_target(target):
    assert step_for(started(quantity=5), target) is Step.KEEP
    assert step_for(started(quantity=5), 5) is Step.NONE  # already so: nothing to keep


def test_a_completed_or_cancelled_supply_order_counts_as_none_open():
    done = a_supply_order()
    done.complete(NOW)

    assert step_for(done, 3) is Step.RAISE


@pytest.mark.parametrize("target", [-1, True, 1.5])
def test_a_target_is_a_whole_number_of_units_zero_or_more(target):
    with pytest.raises(InvalidQuantity):
        step_for(None, target)


def test_a_resize_is_applied_once_per_change():
    order = a_supply_order(supply_order_id="PO-1", sourcing="buy")

    assert order.change_to(2, "SO1:c1", NOW) is Step.RESIZE
    assert order.change_to(4, "SO1:c1", NOW) is Step.NONE  # the same change again: done already

    assert (order.quantity, order.changed_by) == (2, ["SO1:c1"])
    assert order.change_to(4, "SO1:c2", NOW) is Step.RESIZE  # the next change moves it again
    assert (order.quantity, order.changed_by) == (4, ["SO1:c1", "SO1:c2"])


def test_a_target_of_zero_cancels_the_open_supply_order():
    order = a_supply_order()

    assert order.change_to(0, "SO1:c1", NOW) is Step.CANCEL

    assert (order.status, order.cancelled_at, order.changed_by) == (SupplyStatus.CANCELLED, NOW, ["SO1:c1"])


def test_a_change_never_touches_a_completed_supply_order_nor_started_production():
    done, making = a_supply_order(), started()
    done.complete(NOW)

    assert done.change_to(0, "SO1:c1", LATER) is Step.NONE
    assert making.change_to(2, "SO1:c1", LATER) is Step.KEEP

    assert (done.status, done.quantity, done.changed_by) == (SupplyStatus.COMPLETED, 5, [])
    assert (making.status, making.quantity, making.changed_by) == (SupplyStatus.OPEN, 5, [])


def test_a_supply_order_raised_by_a_change_is_that_changes_step_already():
    raised = a_supply_order(raised_by_change="SO1:c1")

    assert raised.change_to(9, "SO1:c1", NOW) is Step.NONE
    assert applied([raised], "LAMP", "SO1:c1") and not applied([raised], "LAMP", "SO1:c2")
    assert not applied([raised], "SHADE", "SO1:c1")


def test_the_open_supply_order_of_a_sku_is_the_one_not_completed_or_cancelled():
    first, second = a_supply_order(supply_order_id="MO-1"), a_supply_order(supply_order_id="MO-2")
    first.complete(NOW)

    assert open_for([first, second], "LAMP") is second
    assert open_for([first], "LAMP") is None and open_for([second], "SHADE") is None


# --- the answer ---------------------------------------------------------------------------------


def test_the_answer_names_the_open_supply_orders_the_cancelled_and_the_kept():
    resized = a_supply_order(supply_order_id="PO-1", sku="SHADE", sourcing="buy")
    resized.change_to(2, "SO1:c1", NOW)
    cancelled = a_supply_order(supply_order_id="PO-2", sku="CORD", sourcing="buy")
    cancelled.change_to(0, "SO1:c1", NOW)
    compensated = a_supply_order(supply_order_id="PO-3", sku="BULB", sourcing="buy")
    compensated.cancel(NOW)  # cancelled, but not by this change
    making = started(supply_order_id="MO-4", sku="LAMP")
    raised = a_supply_order(supply_order_id="MO-5", sku="BASE", raised_by_change="SO1:c1")
    targets = {"SHADE": 2, "CORD": 0, "BULB": 0, "LAMP": 3, "BASE": 5}

    answer = outcome([resized, cancelled, compensated, making, raised], targets, "SO1:c1")

    assert [o.supply_order_id for o in answer.supply_orders] == ["PO-1", "MO-4", "MO-5"]
    assert answer.cancelled == ["PO-2"]
    assert list(answer.kept) == ["LAMP"] and "started at" in answer.kept["LAMP"]


def test_started_production_already_at_its_target_is_not_kept():
    assert outcome([started(quantity=3)], {"LAMP": 3}, "SO1:c1").kept == {}


def test_the_request_keeps_each_changes_answer_once_and_records_what_it_raised():
    request = SupplyRequest("SO1")
    ref = SupplyOrderRef(supply_order_id="MO-5", kind="production", sku="BASE", quantity=5,
                         expected_at=NOW.isoformat())  # fmt: skip
    answer = SupplyChanged(order_id="SO1", change_id="SO1:c1", supply_orders=[ref])

    assert request.answer_change(answer) is True
    assert request.answer_change(SupplyChanged(order_id="SO1", change_id="SO1:c1")) is False

    assert request.changes == {"SO1:c1": answer} and request.supply_order_ids == ["MO-5"]
