"""Supply orders for shortages (R4.2) and what cancellation does to them (R7.1)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment.domain import (
    InvalidQuantity,
    SupplyOrder,
    SupplyOrderCancelled,
    SupplyStatus,
    expected_at,
    kind_for,
)
from shared.bounds import MAX_LEAD_TIME_DAYS

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def a_supply_order(**overrides):
    fields = dict(supply_order_id="MO-1", order_id="SO1", sku="LAMP", quantity=3, sourcing="make",
                  lead_time_days=5, now=NOW, default_lead_time_days=7)
    return SupplyOrder.raise_for(**{**fields, **overrides})


def test_manufactured_items_get_production_and_traded_items_purchase_orders():
    assert kind_for("make") == "production"
    assert kind_for("buy") == "purchase"
    with pytest.raises(InvalidQuantity):
        kind_for("steal")


def test_a_supply_order_is_expected_after_its_lead_time():
    order = a_supply_order(lead_time_days=5)

    assert order.expected_at == NOW + timedelta(days=5)
    assert order.status is SupplyStatus.OPEN
    assert order.kind == "production"


def test_a_zero_lead_time_falls_back_to_the_default_setting():
    assert expected_at(NOW, 0, 7) == NOW + timedelta(days=7)


@pytest.mark.parametrize("quantity", [0, -1, True])
def test_a_supply_order_needs_a_positive_quantity(quantity):
    with pytest.raises(InvalidQuantity):
        a_supply_order(quantity=quantity)


def test_completing_an_open_supply_order_completes_it_once():
    order = a_supply_order()

    assert order.complete(NOW) is True
    assert order.complete(NOW + timedelta(hours=1)) is False
    assert order.status is SupplyStatus.COMPLETED
    assert order.completed_at == NOW


def test_a_cancelled_supply_order_cannot_be_completed():
    order = a_supply_order()
    order.cancel(NOW)

    with pytest.raises(SupplyOrderCancelled):
        order.complete(NOW)


def test_cancelling_leaves_a_completed_supply_order_as_stock_r7_1():
    order = a_supply_order()
    order.complete(NOW)

    assert order.cancel(NOW) is False
    assert order.status is SupplyStatus.COMPLETED


def test_cancelling_twice_cancels_once():
    order = a_supply_order()

    assert order.cancel(NOW) is True
    assert order.cancel(NOW) is False
    assert order.status is SupplyStatus.CANCELLED


@pytest.mark.parametrize("lead_time_days", [MAX_LEAD_TIME_DAYS + 1, 100_000_000, 2**63])
def test_a_lead_time_past_the_bound_expects_the_goods_at_the_bound_instead_of_overflowing(lead_time_days):
    # A catalogue entry stored before the door bounded lead times (issue 7) once parked RaiseSupply
    # with "OverflowError: date value out of range" and left the order waiting forever.
    order = a_supply_order(lead_time_days=lead_time_days)

    assert order.expected_at == NOW + timedelta(days=MAX_LEAD_TIME_DAYS)
