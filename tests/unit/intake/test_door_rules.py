"""The door's rules of issue 8's intake part (R1.1, R1.4): channel words and the delivery date."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain.errors import OrderInvalid
from services.intake.domain.order import CHANNELS, normalise_channel
from services.intake.domain.screening import PastOrder, Policy
from services.intake.domain.validation import LineRequest
from services.intake.schemas.requests import OrderCreate
from tests.unit.intake.builders import AT, TODAY


@pytest.mark.parametrize(
    ("word", "channel"),
    [("online", "storefront"), ("线上", "storefront"), ("Offline", "offline_store"),
     ("channel_partner", "distributor"), ("渠道商", "distributor"), ("erp", "erp")],
)  # fmt: skip
def test_a_channel_is_stored_in_its_first_spelling(word: str, channel: str) -> None:
    assert normalise_channel(word) == channel
    body = OrderCreate.model_validate({
        "customer_id": "C-1", "channel": word, "delivery_address": "x",
        "contact": {"name": "a", "phone": "1"}, "lines": [{"sku": "S", "quantity": 1}],
    })  # fmt: skip
    assert body.channel == channel


def test_an_unknown_channel_word_stays_as_given_for_the_field_error() -> None:
    assert normalise_channel("fax") == "fax" and "fax" not in CHANNELS


def test_the_delivery_date_is_mandatory_and_never_in_the_past(make) -> None:
    with pytest.raises(OrderInvalid) as missing:
        make.place(required_by=None)
    with pytest.raises(OrderInvalid) as past:
        make.place(required_by=TODAY - timedelta(days=1))

    assert "R1.4" in missing.value.fields["required_by"]
    assert "in the past" in past.value.fields["required_by"]
    order, _ = make.place(required_by=TODAY)  # today is fine
    assert order.required_by == TODAY


def test_a_channel_setting_may_make_the_date_optional_and_the_order_is_flagged(make) -> None:
    order, _ = make.place(Policy(date_optional_channels=("storefront",)), required_by=None)
    assert "missing_required_by" in order.flags


# --- prices (R1.5, R2.2) ------------------------------------------------------------------------


def lamp(price: int | None):  # the catalogue sells LAMP-1 at 12,000
    return [LineRequest(sku="LAMP-1", quantity=1, unit_price=price)]


def test_a_storefront_price_below_the_catalogue_becomes_the_catalogue_price(make) -> None:
    order, _ = make.place(lines=lamp(1))  # the 1 fen against 12,000

    assert order.lines[0].unit_price == 12_000 and order.approval_reasons == []
    assert order.approval_tier == "review"  # flagged: a reviewer looks (R2.1), no manager needed
    assert any("replaced by the catalogue price 12000" in h.reason for h in order.history)
    assert "price_below_catalogue" in order.flags


def test_a_sales_rep_may_discount_within_the_limit_and_beyond_it_a_manager_approves(make) -> None:
    within, _ = make.place(channel="sales_rep", lines=lamp(10_800))  # 10 % off
    beyond, _ = make.place(channel="sales_rep", lines=lamp(9_000))  # 25 % off
    sample, _ = make.place(channel="sales_rep", lines=lamp(0))  # a free sample

    assert within.lines[0].unit_price == 10_800 and not within.needs_approval
    assert beyond.lines[0].unit_price == 9_000 and beyond.needs_approval
    assert "25.0 % below" in beyond.approval_reasons[0] and "margin -3000" in beyond.approval_reasons[0]
    assert sample.needs_approval and "100.0 % below" in sample.approval_reasons[0]


def test_the_held_order_says_why_a_manager_must_look(make) -> None:
    order = make.order("approved", channel="sales_rep", lines=lamp(9_000))
    assert order.status == "on_hold" and "margin -3000" in order.history[-1].reason


# --- brushing (R1.6) ----------------------------------------------------------------------------


def past(name: str, phone: str = "13900000000", address: str = "1 Nanjing Road, Shanghai", hours: int = 1):
    return PastOrder(address, {"SHADE-R": 1}, AT - timedelta(hours=hours), "approved", phone=phone,
                     contact_name=name)  # fmt: skip


def test_small_orders_to_one_address_under_many_names_are_flagged_with_why(make) -> None:
    small = [LineRequest(sku="SHADE-R", quantity=1)]
    flagged, _ = make.place(past=[past("Wang Fang"), past("Zhao Lei", phone="13700000000")], lines=small)
    one_name, _ = make.place(past=[past("Li Lei"), past("Li Lei")], lines=small)
    long_ago, _ = make.place(past=[past("Wang Fang", hours=48), past("Zhao Lei", hours=30)], lines=small)

    assert "possible_brushing" in flagged.flags
    why = [
        h.reason for h in flagged.history if h.event == "flagged" and h.reason.startswith("possible_brushing")
    ]
    assert why and "under 3 names" in why[0]
    assert "possible_brushing" not in one_name.flags and "possible_brushing" not in long_ago.flags


def test_the_thresholds_are_settings(monkeypatch) -> None:
    """Every threshold of the business documents is a setting (R1.4, R1.5, R1.6, R2.2, R3.2)."""
    from services.intake.settings import Settings

    for name, value in {"INTAKE_NEGOTIATING_CHANNELS": "sales_rep", "INTAKE_MAX_DISCOUNT_PERCENT": "5",
                        "INTAKE_BRUSHING_MIN_NAMES": "4", "INTAKE_GENERAL_MANAGER_OVER": "50000",
                        "INTAKE_REQUIRED_BY_OPTIONAL_CHANNELS": "email", "INTAKE_SIGN_OFF_TERMS": "monthly",
                        "INTAKE_DEPOSIT_PERCENT": "40"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    policy = Settings().policy

    assert policy.negotiating_channels == ("sales_rep",) and policy.max_discount_percent == 5
    assert policy.brushing_min_names == 4 and policy.general_manager_over == 50_000
    assert policy.date_optional_channels == ("email",) and policy.sign_off_terms == ("monthly",)
    assert policy.deposit_percent == 40
