"""Catalogue rules: prices in fen, sourcing make|buy, tracking none|batch|serial."""

import pytest

from services.inventory.domain import InvalidProduct, Product, Shortage


def a_product(**overrides):
    fields = dict(sku="LAMP-RED", name="Lamp red", unit_price=12000, sourcing="make", lead_time_days=5)
    return Product(**{**fields, **overrides})


def test_a_product_defaults_to_no_batch_or_serial_tracking():
    assert a_product().tracking == "none"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("sku", " "),
        ("unit_price", -1),
        ("unit_price", 1.5),
        ("unit_price", True),
        ("sourcing", "steal"),
        ("lead_time_days", -2),
        ("tracking", "rfid"),
    ],
)
def test_a_product_that_breaks_a_rule_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidProduct) as refused:
        a_product(**{field: value})

    assert field in refused.value.fields


def test_a_shortage_carries_the_products_sourcing_and_lead_time_r4_2():
    shortage = a_product(sourcing="buy", lead_time_days=7).shortage(3)

    assert shortage == Shortage("LAMP-RED", 3, "buy", 7)
