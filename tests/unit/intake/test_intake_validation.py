"""Door checks: completeness (R1.4) and consistency with the catalogue (R1.5)."""

import pytest

from services.intake.domain.errors import OrderInvalid
from services.intake.domain.validation import LineRequest, build_lines, validate
from shared.bounds import MAX_MONEY, MAX_QUANTITY


def test_a_complete_consistent_request_has_no_errors(make):
    assert validate(make.request(), make.catalogue) == {}


def test_an_unknown_sku_is_an_error_on_its_line(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=1), LineRequest(sku="NOPE", quantity=1)])

    errors = validate(request, make.catalogue)

    assert errors == {"lines.1.sku": "unknown SKU NOPE"}


def test_code_a_with_the_name_of_product_b_is_an_error(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", name="Lamp shade red", quantity=1)])

    errors = validate(request, make.catalogue)

    assert list(errors) == ["lines.0.name"]
    assert "Desk lamp" in errors["lines.0.name"]


def test_a_matching_name_may_differ_in_case_and_spacing(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", name="  desk LAMP ", quantity=1)])

    assert validate(request, make.catalogue) == {}


@pytest.mark.parametrize("quantity", [0, -3])
def test_a_non_positive_quantity_is_an_error(make, quantity):
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=quantity)])

    assert list(validate(request, make.catalogue)) == ["lines.0.quantity"]


@pytest.mark.parametrize(
    ("field", "error_key"),
    [
        ("customer_id", "customer_id"),
        ("delivery_address", "delivery_address"),
        ("contact_name", "contact.name"),
        ("contact_phone", "contact.phone"),
    ],
)
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_missing_mandatory_field_is_reported_by_name(make, field, error_key, blank):
    errors = validate(make.request(**{field: blank}), make.catalogue)

    assert errors == {error_key: "missing"}


def test_an_order_without_lines_is_incomplete(make):
    assert validate(make.request(lines=[]), make.catalogue) == {"lines": "at least one line is required"}


def test_a_line_without_sku_or_quantity_is_incomplete(make):
    request = make.request(
        lines=[LineRequest(sku=None, quantity=1), LineRequest(sku="LAMP-1", quantity=None)]
    )

    assert validate(request, make.catalogue) == {"lines.0.sku": "missing", "lines.1.quantity": "missing"}


def test_an_unknown_channel_is_an_error(make):
    assert list(validate(make.request(channel="fax"), make.catalogue)) == ["channel"]


def test_a_line_amount_that_is_not_quantity_times_price_is_an_error(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=2, amount=25000)])

    errors = validate(request, make.catalogue)

    assert errors == {"lines.0.amount": "quantity x unit price is 24000, not 25000"}


def test_a_line_amount_is_checked_against_the_given_unit_price(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=2, unit_price=11000, amount=22000)])

    assert validate(request, make.catalogue) == {}


def test_a_given_total_must_equal_lines_minus_discount_plus_freight(make):
    # 2 x 12000 + 3 x 3000 - 500 + 1000 = 33500
    assert validate(make.request(total=33500), make.catalogue) == {}
    assert list(validate(make.request(total=33000), make.catalogue)) == ["total"]


def test_negative_discount_or_freight_is_an_error(make):
    errors = validate(make.request(discount=-1, freight=-1), make.catalogue)

    assert set(errors) == {"discount", "freight"}


def test_a_discount_larger_than_the_order_is_an_error(make):
    errors = validate(make.request(discount=100_000), make.catalogue)

    assert list(errors) == ["discount"]


def test_a_negative_unit_price_is_an_error(make):
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=1, unit_price=-5)])

    assert list(validate(request, make.catalogue)) == ["lines.0.unit_price"]


def test_every_error_is_reported_at_once(make):
    request = make.request(
        customer_id="",
        lines=[LineRequest(sku="NOPE", quantity=1), LineRequest(sku="LAMP-1", quantity=0)],
    )

    assert set(validate(request, make.catalogue)) == {"customer_id", "lines.0.sku", "lines.1.quantity"}


def test_the_unit_price_defaults_to_the_catalogue_price(make):
    request = make.request(
        lines=[LineRequest(sku="LAMP-1", quantity=2), LineRequest(sku="SHADE-R", quantity=1, unit_price=2500)]
    )

    lines = build_lines(request, make.catalogue)

    assert [(li.unit_price, li.amount) for li in lines] == [(12000, 24000), (2500, 2500)]
    assert lines[0].name == "Desk lamp"


def test_placing_an_invalid_order_raises_with_every_field_error(make):
    with pytest.raises(OrderInvalid) as raised:
        make.place(lines=[LineRequest(sku="NOPE", quantity=1)])

    assert raised.value.code == "validation_failed"
    assert raised.value.fields == {"lines.0.sku": "unknown SKU NOPE"}


def test_a_line_worth_more_than_the_money_bound_is_refused_on_its_amount(make):
    # Each field is within its bound (issue 7), but their product would not fit the store's integers.
    request = make.request(lines=[LineRequest(sku="LAMP-1", quantity=MAX_QUANTITY, unit_price=MAX_MONEY)])

    errors = validate(request, make.catalogue)

    assert list(errors) == ["lines.0.amount"] and "over the bound" in errors["lines.0.amount"]


def test_an_order_whose_lines_add_up_past_the_money_bound_is_refused_on_its_total(make):
    line = LineRequest(sku="LAMP-1", quantity=1, unit_price=MAX_MONEY)
    request = make.request(lines=[line, line])

    errors = validate(request, make.catalogue)

    assert list(errors) == ["total"] and "over the bound" in errors["total"]
