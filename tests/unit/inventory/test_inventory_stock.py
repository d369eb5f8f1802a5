"""Stock of one SKU: counts, holds that never oversell (R4.1), shipping and receipts."""

import pytest

from services.inventory.domain import BelowReserved, InvalidQuantity, Stock, draw_from_largest, reservable


def test_reservable_is_never_more_than_available_nor_negative():
    assert reservable(10, 3) == 3
    assert reservable(2, 3) == 2
    assert reservable(0, 3) == 0
    assert reservable(-1, 3) == 0


def test_counting_a_warehouse_sets_its_quantity_and_returns_the_change():
    stock = Stock("S", warehouses={"main": 4})

    delta = stock.count("main", 10)

    assert delta == 6
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 0, 10)


def test_counting_sums_every_warehouse_into_on_hand():
    stock = Stock("S")

    stock.count("main", 3)
    stock.count("east", 4)

    assert stock.on_hand == 7


def test_a_count_below_what_is_reserved_is_refused():
    stock = Stock("S", warehouses={"main": 10})
    stock.hold("SO1", 6)

    with pytest.raises(BelowReserved):
        stock.count("main", 5)
    assert stock.on_hand == 10


def test_a_negative_count_is_refused():
    with pytest.raises(InvalidQuantity):
        Stock("S").count("main", -1)


def test_holding_takes_what_is_available_and_no_more():
    stock = Stock("S", warehouses={"main": 5})

    assert stock.hold("SO1", 3) == 3
    assert stock.hold("SO2", 3) == 2
    assert stock.hold("SO3", 3) == 0
    assert (stock.reserved, stock.available) == (5, 0)


def test_holding_twice_for_the_same_order_holds_nothing_more():
    stock = Stock("S", warehouses={"main": 5})
    stock.hold("SO1", 2)

    assert stock.hold("SO1", 2) == 2
    assert stock.reserved == 2


def test_releasing_gives_the_held_units_back_once():
    stock = Stock("S", warehouses={"main": 5})
    stock.hold("SO1", 4)

    assert stock.release("SO1") == 4
    assert stock.release("SO1") == 0
    assert stock.available == 5


def test_shipping_takes_the_held_units_from_the_fullest_warehouse_first():
    stock = Stock("S", warehouses={"main": 2, "east": 5})
    stock.hold("SO1", 6)

    draws = stock.commit("SO1")

    assert draws == {"east": 5, "main": 1}
    assert stock.warehouses == {"main": 1, "east": 0}
    assert (stock.on_hand, stock.reserved, stock.available) == (1, 0, 1)


def test_shipping_twice_draws_once():
    stock = Stock("S", warehouses={"main": 5})
    stock.hold("SO1", 2)
    stock.commit("SO1")

    assert stock.commit("SO1") == {"main": 2}
    assert stock.on_hand == 3


def test_draws_break_ties_by_warehouse_name_and_refuse_more_than_on_hand():
    assert draw_from_largest({"b": 3, "a": 3}, 4) == {"a": 3, "b": 1}
    with pytest.raises(BelowReserved):
        draw_from_largest({"a": 1}, 2)


def test_a_receipt_is_counted_once_and_may_hold_units_for_the_waiting_order():
    stock = Stock("S", warehouses={"main": 0})
    stock.hold("SO1", 3)

    assert stock.receive("PO-1", 3, "main", order_id="SO1", hold=3) is True
    assert stock.receive("PO-1", 3, "main", order_id="SO1", hold=3) is False
    assert (stock.on_hand, stock.reserved, stock.holds["SO1"]) == (3, 3, 3)


def test_a_receipt_cannot_hold_more_than_arrived():
    with pytest.raises(InvalidQuantity):
        Stock("S").receive("PO-1", 1, "main", order_id="SO1", hold=2)
