"""Totals (R1.5), priority (R1.7), plausibility flags (R1.6) and order numbers (R1.3)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.intake.domain.numbering import month_key, order_number, parse_order_number
from services.intake.domain.screening import PastOrder, Policy, is_mainland_mobile, is_vague_name, priority
from services.intake.domain.validation import LineRequest

TODAY = date(2024, 5, 10)


def test_total_is_lines_minus_discount_plus_freight(make):
    order, _ = make.place(discount=500, freight=1000)

    assert order.subtotal == 2 * 12000 + 3 * 3000
    assert order.total == 33000 - 500 + 1000
    assert [line.amount for line in order.lines] == [24000, 9000]


def test_two_specs_of_one_sku_are_separate_lines_but_one_quantity(make):
    lines = [
        LineRequest(sku="SHADE-R", quantity=2, spec="red / L"),
        LineRequest(sku="SHADE-R", quantity=5, spec="red / M"),
    ]
    order, _ = make.place(lines=lines)

    assert [line.spec for line in order.lines] == ["red / L", "red / M"]
    assert order.quantities() == {"SHADE-R": 7}


@pytest.mark.parametrize(
    ("days_left", "units", "expected"),
    [
        (10, 5, "normal"),
        (3, 5, "urgent"),  # within 3 days
        (0, 5, "urgent"),
        (-1, 5, "urgent"),  # already late is as urgent as it gets
        (4, 5, "normal"),
        (10, 100, "normal"),  # 100 units is not "over 100"
        (10, 101, "key"),
        (2, 500, "urgent"),  # a date cannot wait; a bulk order can
    ],
)
def test_priority_follows_the_delivery_date_and_the_quantity(days_left, units, expected):
    assert priority(TODAY + timedelta(days=days_left), units, TODAY, Policy()) == expected


def test_priority_thresholds_come_from_the_policy():
    policy = Policy(urgent_within_days=1, key_order_units=10)

    assert priority(TODAY + timedelta(days=2), 5, TODAY, policy) == "normal"
    assert priority(TODAY + timedelta(days=2), 11, TODAY, policy) == "key"


def test_an_order_without_a_delivery_date_is_never_urgent():
    assert priority(None, 5, TODAY, Policy()) == "normal"


def test_a_placed_order_carries_its_priority(make):
    order, _ = make.place(required_by=make.today + timedelta(days=1))

    assert order.priority == "urgent"


@pytest.mark.parametrize(
    "phone", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "008613812345678"]
)
def test_a_mainland_mobile_number_is_plausible(phone):
    assert is_mainland_mobile(phone)


@pytest.mark.parametrize("phone", ["", "1381234567", "138123456789", "12812345678", "021-12345678", "abc"])
def test_anything_else_is_not_a_mainland_mobile(phone):
    assert not is_mainland_mobile(phone)


@pytest.mark.parametrize("name", ["某公司", "上海某贸易公司", "XX公司", "test", "公司", "", "A"])
def test_placeholder_customer_names_are_vague(name):
    assert is_vague_name(name)


@pytest.mark.parametrize("name", ["上海爱克美贸易有限公司", "Shanghai ACME Trading Co., Ltd."])
def test_full_legal_names_are_not_vague(name):
    assert not is_vague_name(name)


def test_a_suspicious_order_is_flagged_but_still_accepted(make):
    order, commands = make.place(contact_phone="12345")

    assert order.flags == ["invalid_phone"]
    assert order.status == "pending_review"
    assert commands


def test_a_price_below_the_catalogue_is_flagged(make):
    order, _ = make.place(lines=[LineRequest(sku="LAMP-1", quantity=1, unit_price=1)])

    assert "price_below_catalogue" in order.flags


def test_order_numbers_are_so_month_and_a_three_digit_serial():
    assert order_number("202405", 1) == "SO202405001"
    assert order_number("202405", 42) == "SO202405042"


def test_serials_past_999_grow_longer_and_stay_unique():
    assert order_number("202405", 1000) == "SO2024051000"
    assert parse_order_number("SO2024051000") == ("202405", 1000)
    assert parse_order_number("SO202405007") == ("202405", 7)
    assert parse_order_number("XX") is None


def test_an_invalid_serial_or_month_is_refused():
    with pytest.raises(ValueError):
        order_number("202405", 0)
    with pytest.raises(ValueError):
        order_number("2024-5", 1)


def test_the_month_is_taken_in_the_business_time_zone():
    just_after_midnight_in_shanghai = datetime(2024, 5, 31, 16, 30, tzinfo=UTC)

    assert month_key(just_after_midnight_in_shanghai) == "202406"
    assert month_key(just_after_midnight_in_shanghai, "UTC") == "202405"


def past(quantities, *, hours_ago=1, address="1 Nanjing Road, Shanghai", status="pending_review"):
    return PastOrder(
        address, quantities, datetime(2024, 5, 10, 2, tzinfo=UTC) - timedelta(hours=hours_ago), status
    )


def test_the_same_lines_to_the_same_address_within_a_day_are_a_possible_duplicate(make):
    order, _ = make.place(past=[past({"LAMP-1": 2, "SHADE-R": 3}, address="1  nanjing road, SHANGHAI")])

    assert "possible_duplicate" in order.flags


@pytest.mark.parametrize(
    "earlier",
    [
        {"quantities": {"LAMP-1": 2, "SHADE-R": 3}, "hours_ago": 25},  # not recent
        {"quantities": {"LAMP-1": 2, "SHADE-R": 4}},  # other lines
        {"quantities": {"LAMP-1": 2, "SHADE-R": 3}, "address": "2 Huaihai Road"},
        {"quantities": {"LAMP-1": 2, "SHADE-R": 3}, "status": "cancelled"},
    ],
)
def test_other_orders_are_not_duplicates(make, earlier):
    order, _ = make.place(past=[past(**earlier)])

    assert "possible_duplicate" not in order.flags


def test_far_more_than_the_customers_usual_volume_is_flagged_once_there_is_a_usual(make):
    usual = [past({"LAMP-1": 1}, hours_ago=100 + i) for i in range(3)]
    bulk = [LineRequest(sku="LAMP-1", quantity=11)]

    flagged, _ = make.place(lines=bulk, past=usual)
    too_little_history, _ = make.place(lines=bulk, past=usual[:2])
    ordinary, _ = make.place(lines=[LineRequest(sku="LAMP-1", quantity=10)], past=usual)

    assert "unusual_volume" in flagged.flags
    assert "unusual_volume" not in too_little_history.flags + ordinary.flags
