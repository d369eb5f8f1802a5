"""An order change moves its reservation (issue 8, R7.2; R4.2 "cancelling the short lines"): the
pure rules of the stock (``adjusted_hold``, ``Stock.adjust``) and of the reservation."""

import pytest

from services.inventory.domain import (
    Adjustment,
    HoldChange,
    InvalidQuantity,
    InvalidTransition,
    Product,
    Reservation,
    ReservationStatus,
    Shortage,
    Stock,
    adjusted_hold,
)

PRODUCTS = {
    "A": Product("A", "Lamp", 1000, "make", 5),
    "B": Product("B", "Shade", 200, "buy", 2),
    "C": Product("C", "Bulb", 50, "buy", 1),
}


def decided(held: dict[str, int], **wanted: int) -> Reservation:
    """A reservation that wanted ``wanted`` and holds ``held`` (reserved or short)."""
    reservation = Reservation.start("SO1", wanted.items())
    for sku in wanted:
        reservation.record_hold(sku, held.get(sku, 0))
    reservation.finish()
    return reservation


def moved(before: int, after: int) -> HoldChange:
    return HoldChange(before, after, after)


# --- the stock's rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "available", "wanted", "after"),
    [
        (5, 0, 2, 2),  # less: exactly what is wanted, the rest goes back
        (5, 9, 0, 0),  # none wanted: all of it goes back
        (2, 1, 5, 3),  # more: what is available, never more (R4.1)
        (2, 9, 5, 5),
        (2, 0, 5, 2),
        (2, -1, 5, 2),  # never less than held because of a negative available
        (3, 4, 3, 3),
    ],
)
def test_a_change_holds_exactly_what_is_wanted_or_what_is_available(held, available, wanted, after):
    assert adjusted_hold(held, available, wanted) == after


def test_a_decrease_gives_the_difference_back_to_available():
    stock = Stock("S", warehouses={"main": 10})
    stock.hold("SO1", 5)

    change = stock.adjust("SO1", "SO1:c1", 2)

    assert (change.before, change.after, change.held, change.released, change.reserved) == (5, 2, 2, 3, 0)
    assert (stock.reserved, stock.available) == (2, 8)


def test_an_increase_holds_only_what_is_available_and_never_another_orders_hold():
    stock = Stock("S", warehouses={"main": 4})
    stock.hold("SO1", 2)
    stock.hold("SO2", 1)

    change = stock.adjust("SO1", "SO1:c1", 5)

    assert (change.after, change.reserved) == (3, 1)
    assert stock.holds == {"SO1": 3, "SO2": 1} and stock.available == 0


def test_the_same_change_twice_moves_nothing_and_says_what_it_did_the_first_time():
    stock = Stock("S", warehouses={"main": 10})
    stock.hold("SO1", 5)
    first = stock.adjust("SO1", "SO1:c1", 2)
    stock.release("SO2")  # whatever happens meanwhile

    assert stock.adjust("SO1", "SO1:c1", 2) == first
    assert stock.adjust("SO1", "SO1:c1", 7) == first  # the change is made: its id decides, not its lines
    assert (stock.reserved, stock.available) == (2, 8)


def test_a_second_change_starts_from_what_the_first_left():
    stock = Stock("S", warehouses={"main": 10})
    stock.hold("SO1", 5)
    stock.adjust("SO1", "SO1:c1", 2)

    second = stock.adjust("SO1", "SO1:c2", 4)

    assert (second.before, second.after, second.reserved) == (2, 4, 2)
    assert stock.adjustments["SO1"] == {"change": "SO1:c2", "before": 2, "after": 4}


def test_a_change_of_a_sku_the_order_never_held_nor_wants_remembers_nothing():
    stock = Stock("S", warehouses={"main": 3})

    assert stock.adjust("SO1", "SO1:c1", 0) == HoldChange(0, 0, 0)
    assert stock.holds == {} and stock.adjustments == {}


def test_limiting_a_hold_gives_back_only_what_is_beyond_it():
    stock = Stock("S", warehouses={"main": 10})
    stock.hold("SO1", 6)

    assert stock.limit("SO1", 8) == 6
    assert stock.limit("SO1", 2) == 2
    assert stock.limit("SO9", 0) == 0
    assert (stock.reserved, stock.available) == (2, 8)


# --- the reservation's rule ---------------------------------------------------------------------


def test_the_target_sums_a_sku_on_two_lines_wants_none_of_a_sku_left_out_and_adds_new_ones_last():
    reservation = decided({"A": 2, "B": 1}, A=2, B=1)

    target = reservation.adjustment_target([("C", 1), ("A", 3), ("C", 2)])

    assert list(target.items()) == [("A", 3), ("B", 0), ("C", 3)]


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_a_target_needs_positive_integer_lines(quantity):
    with pytest.raises(InvalidQuantity):
        decided({"A": 1}, A=1).adjustment_target([("A", quantity)])


def test_only_a_reserved_or_short_reservation_can_be_adjusted():
    reserving = Reservation.start("SO1", [("A", 1)])
    released, committed = decided({"A": 1}, A=1), decided({"A": 1}, A=1)
    released.release({"A": 1})
    committed.commit({"A": 1})

    for reservation in (reserving, released, committed):
        assert not reservation.adjustable
        with pytest.raises(InvalidTransition):
            reservation.adjustment_target([("A", 1)])
        with pytest.raises(InvalidTransition):
            reservation.adjust("SO1:c1", {"A": 1}, {"A": moved(1, 1)}, PRODUCTS)


def test_a_decrease_keeps_the_order_reserved_and_records_what_went_back():
    reservation = decided({"A": 5}, A=5)

    done = reservation.adjust("SO1:c1", {"A": 2}, {"A": moved(5, 2)}, PRODUCTS)

    assert done == Adjustment(released={"A": 3})
    assert (reservation.status, reservation.wanted, reservation.held) == (
        ReservationStatus.RESERVED, {"A": 2}, {"A": 2})  # fmt: skip
    assert reservation.adjustments == {"SO1:c1": done}


def test_an_increase_that_cannot_be_held_is_short_with_sourcing_and_lead_time():
    reservation = decided({"A": 2}, A=2)

    done = reservation.adjust("SO1:c1", {"A": 5}, {"A": moved(2, 3)}, PRODUCTS)

    assert done == Adjustment(reserved={"A": 1}, missing=(Shortage("A", 2, "make", 5),))
    assert reservation.status is ReservationStatus.SHORT
    assert reservation.shortages(PRODUCTS) == [Shortage("A", 2, "make", 5)]


def test_an_order_short_three_units_cut_by_three_is_reserved_r4_2():
    reservation = decided({"A": 2, "B": 1}, A=5, B=1)  # A short 3

    done = reservation.adjust("SO1:c1", {"A": 2, "B": 1}, {"A": moved(2, 2), "B": moved(1, 1)}, PRODUCTS)

    assert done == Adjustment()  # nothing moved, nothing missing
    assert reservation.status is ReservationStatus.RESERVED
    assert reservation.units_to_hold_on_receipt("A", 3) == 0  # late supply stays as stock


def test_a_sku_removed_stays_wanted_at_zero_so_a_release_still_visits_its_stock():
    reservation = decided({"A": 2, "B": 1}, A=2, B=1)

    done = reservation.adjust("SO1:c1", {"A": 2, "B": 0}, {"A": moved(2, 2), "B": moved(1, 0)}, PRODUCTS)

    assert done.released == {"B": 1}
    assert reservation.wanted == {"A": 2, "B": 0} and reservation.held_lines() == [("A", 2)]
    assert reservation.status is ReservationStatus.RESERVED


def test_after_a_decrease_supply_fills_only_what_is_still_missing():
    reservation = decided({"A": 1}, A=6)  # short 5
    reservation.adjust("SO1:c1", {"A": 3}, {"A": moved(1, 1)}, PRODUCTS)  # now short 2

    assert reservation.units_to_hold_on_receipt("A", 5) == 2
    assert reservation.receive("PO-1", "A", held_now=3) is True
    assert reservation.status is ReservationStatus.RESERVED


def test_a_change_is_recorded_once_and_needs_every_sku_decided():
    reservation = decided({"A": 2, "B": 1}, A=2, B=1)

    with pytest.raises(InvalidTransition, match="no decision yet"):
        reservation.adjust("SO1:c1", {"A": 1, "B": 1}, {"A": moved(2, 1)}, PRODUCTS)
    reservation.adjust("SO1:c1", {"A": 1, "B": 1}, {"A": moved(2, 1), "B": moved(1, 1)}, PRODUCTS)
    with pytest.raises(InvalidTransition, match="made already"):
        reservation.adjust("SO1:c1", {"A": 1, "B": 1}, {"A": moved(1, 1), "B": moved(1, 1)}, PRODUCTS)
