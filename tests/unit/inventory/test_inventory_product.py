"""Catalogue rules: prices in fen, sourcing make|buy, tracking none|batch|serial."""

import pytest

from services.inventory.domain import Component, InvalidProduct, Product, Shortage, check_bundle


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


# --- custom products (R2.2) and bundles (R1.9) ------------------------------------------------


def a_bundle(*parts, **overrides):
    return a_product(sku="DESK-SET", name="Desk set", components=tuple(Component(s, q) for s, q in parts),
                     **overrides)  # fmt: skip


def test_a_product_is_plain_and_not_custom_unless_it_says_so():
    assert (a_product().custom, a_product().components, a_product().is_bundle) == (False, (), False)
    assert a_product(custom=True).custom is True


def test_custom_must_be_a_boolean():
    with pytest.raises(InvalidProduct) as refused:
        a_product(custom="yes")

    assert "custom" in refused.value.fields


@pytest.mark.parametrize(
    ("parts", "field", "says"),
    [
        ((("LAMP", 0),), "components.0.quantity", "positive"),
        ((("LAMP", -1),), "components.0.quantity", "positive"),
        ((("LAMP", True),), "components.0.quantity", "positive"),
        ((("LAMP", 1), ("LAMP", 2)), "components.1.sku", "twice"),
        ((("LAMP", 1), ("DESK-SET", 1)), "components.1.sku", "itself"),
        ((("", 1),), "components.0.sku", "empty"),
    ],
)
def test_a_bundle_with_a_bad_component_is_refused_naming_it(parts, field, says):
    with pytest.raises(InvalidProduct) as refused:
        a_bundle(*parts)

    assert says in refused.value.fields[field]


def test_a_bundle_of_existing_plain_products_passes_the_catalogue_check():
    bundle = a_bundle(("LAMP", 1), ("BULB", 2))

    check_bundle(bundle, {"LAMP": a_product(sku="LAMP"), "BULB": a_product(sku="BULB")})

    assert bundle.is_bundle


def test_a_bundle_of_unknown_products_or_of_bundles_is_refused_per_component():
    inner = a_product(sku="INNER", components=(Component("LAMP", 1),))

    with pytest.raises(InvalidProduct) as refused:
        check_bundle(a_bundle(("NOPE", 1), ("INNER", 1), ("LAMP", 1)), {"INNER": inner, "LAMP": a_product()})

    assert set(refused.value.fields) == {"components.0.sku", "components.1.sku"}
    assert "unknown product NOPE" in refused.value.fields["components.0.sku"]
    assert "INNER is a bundle itself" in refused.value.fields["components.1.sku"]


def test_a_component_of_a_bundle_cannot_become_a_bundle_itself():
    with pytest.raises(InvalidProduct) as refused:
        check_bundle(a_bundle(("LAMP", 1)), {"LAMP": a_product(sku="LAMP")}, bundles_containing=["GIFT-BOX"])

    assert "component of GIFT-BOX" in refused.value.fields["components"]


def test_a_product_with_stock_cannot_become_a_bundle_which_has_none_of_its_own():
    lamp = {"LAMP": a_product(sku="LAMP")}
    with pytest.raises(InvalidProduct) as refused:
        check_bundle(a_bundle(("LAMP", 1)), lamp, stock={"on_hand": 3, "reserved": 0})

    assert "no stock of its own" in refused.value.fields["components"]
    check_bundle(a_bundle(("LAMP", 1)), lamp, stock={"on_hand": 0, "reserved": 0})
