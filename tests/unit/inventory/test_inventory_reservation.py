"""Reservation per order: R4.1 holds, R4.2 shortages, R7.1 release, tombstones."""

import pytest

from services.inventory.domain import (
    InvalidQuantity,
    InvalidTransition,
    Product,
    Reservation,
    ReservationStatus,
    Shortage,
)

PRODUCTS = {
    "A": Product("A", "Lamp", 1000, "make", 5),
    "B": Product("B", "Shade", 200, "buy", 2),
}


def reserving(**wanted):
    return Reservation.start("SO1", wanted.items())


def test_the_same_sku_on_two_lines_is_wanted_once_summed():
    reservation = Reservation.start("SO1", [("A", 2), ("A", 3)])

    assert reservation.wanted == {"A": 5}


@pytest.mark.parametrize("lines", [[], [("A", 0)], [("A", -1)]])
def test_a_reservation_needs_positive_lines(lines):
    with pytest.raises(InvalidQuantity):
        Reservation.start("SO1", lines)


def test_every_line_fully_held_makes_the_reservation_reserved():
    reservation = reserving(A=2, B=1)
    reservation.record_hold("A", 2)
    reservation.record_hold("B", 1)

    assert reservation.finish() is ReservationStatus.RESERVED
    assert reservation.shortages(PRODUCTS) == []


def test_what_cannot_be_held_is_reported_short_with_sourcing_and_lead_time():
    reservation = reserving(A=5, B=1)
    reservation.record_hold("A", 2)
    reservation.record_hold("B", 0)

    assert reservation.finish() is ReservationStatus.SHORT
    assert reservation.shortages(PRODUCTS) == [Shortage("A", 3, "make", 5), Shortage("B", 1, "buy", 2)]
    assert reservation.held_lines() == [("A", 2)]


def test_a_reservation_cannot_finish_before_every_sku_is_decided():
    reservation = reserving(A=1, B=1)
    reservation.record_hold("A", 1)

    with pytest.raises(InvalidTransition):
        reservation.finish()


def test_received_supply_fills_a_short_order_until_it_is_reserved():
    reservation = reserving(A=5)
    reservation.record_hold("A", 2)
    reservation.finish()

    assert reservation.units_to_hold_on_receipt("A", 10) == 3
    completed = reservation.receive("MO-1", "A", held_now=5)

    assert completed is True
    assert reservation.status is ReservationStatus.RESERVED
    assert reservation.receipts == {"MO-1": 3}


def test_the_same_receipt_twice_changes_nothing():
    reservation = reserving(A=5)
    reservation.record_hold("A", 2)
    reservation.finish()
    reservation.receive("MO-1", "A", held_now=3)

    assert reservation.receive("MO-1", "A", held_now=3) is False
    assert reservation.held == {"A": 3}
    assert reservation.status is ReservationStatus.SHORT


def test_supply_arriving_for_a_released_order_stays_as_stock_r7_1():
    reservation = Reservation.tombstone("SO1")

    assert reservation.units_to_hold_on_receipt("A", 4) == 0


def test_a_release_before_any_reserve_leaves_a_released_tombstone():
    reservation = Reservation.tombstone("SO1")

    assert reservation.status is ReservationStatus.RELEASED
    assert reservation.is_final
    with pytest.raises(InvalidTransition):
        reservation.record_hold("A", 1)


def test_releasing_records_what_went_back_and_closes_the_reservation():
    reservation = reserving(A=2)
    reservation.record_hold("A", 2)
    reservation.finish()

    reservation.release({"A": 2})

    assert reservation.status is ReservationStatus.RELEASED
    assert reservation.released == {"A": 2}


def test_shipped_goods_cannot_be_released_r7_3():
    reservation = reserving(A=2)
    reservation.record_hold("A", 2)
    reservation.finish()
    reservation.commit({"A": 2})

    with pytest.raises(InvalidTransition):
        reservation.release({})


def test_a_released_reservation_has_nothing_to_ship():
    with pytest.raises(InvalidTransition):
        Reservation.tombstone("SO1").commit({})
