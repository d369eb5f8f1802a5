"""Carrier and mode rules (R5.1) and tracking numbers (R5.2)."""

import pytest

from services.logistics.domain import DEDICATED_VEHICLE, EXPRESS, CarrierRules, tracking_number

RULES = CarrierRules(
    default_carrier="SF Express",
    dedicated_carrier="Deppon Freight",
    dedicated_threshold=1_000_000,
    region_carriers={
        "新疆": "China Post EMS",
        "广东省深圳": "JD Logistics",
        "广东": "YTO Express",
        "Tibet": "China Post EMS",
    },
)


def test_orders_go_by_express_with_the_default_carrier():
    booking = RULES.choose(50_000, "上海市浦东新区世纪大道100号")

    assert (booking.carrier, booking.mode) == ("SF Express", EXPRESS)


def test_an_order_above_the_threshold_goes_by_dedicated_vehicle():
    assert RULES.choose(1_000_001, "广东省深圳市南山区").mode == DEDICATED_VEHICLE
    assert RULES.choose(1_000_001, "广东省深圳市南山区").carrier == "Deppon Freight"


def test_an_order_exactly_at_the_threshold_still_goes_by_express():
    assert RULES.choose(1_000_000, "上海市").mode == EXPRESS


def test_the_carrier_follows_the_most_specific_destination_region():
    assert RULES.choose(10_000, "广东省深圳市南山区科技园").carrier == "JD Logistics"
    assert RULES.choose(10_000, "广东省广州市天河区").carrier == "YTO Express"
    assert RULES.choose(10_000, "新疆乌鲁木齐市").carrier == "China Post EMS"


@pytest.mark.parametrize("address", ["浙江省杭州市西湖区", "浙江西湖区文三路"])
def test_a_region_name_inside_another_place_name_does_not_match(address):
    lookalikes = CarrierRules("SF Express", "Deppon Freight", 1_000_000, {"江西": "ZTO Express"})

    assert lookalikes.choose(10_000, address).carrier == "SF Express"


def test_an_english_address_matches_its_region_part():
    assert RULES.choose(10_000, "1 Beijing Rd, Lhasa, Tibet").carrier == "China Post EMS"


def test_tracking_numbers_carry_the_carrier_code_and_twelve_digits():
    assert tracking_number("SF Express", 123) == "SF000000000123"
    assert tracking_number("顺丰", 5) == "TRK000000000005"
