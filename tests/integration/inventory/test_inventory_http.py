"""The inventory's HTTP contract (API.md): catalogue and stock counts, against the real store."""

from __future__ import annotations

import pytest

from shared.contracts import LineQty, ReserveStock
from tests.integration.inventory.builders import a_product, stock_of, uid

pytestmark = pytest.mark.integration


async def test_a_product_put_can_be_read_back(http):
    sku = uid("SKU")
    body = {"name": "Lamp shade", "unit_price": 2_500, "sourcing": "make", "lead_time_days": 3,
            "tracking": "batch"}  # fmt: skip

    created = await http.put(f"/products/{sku}", json=body)
    replaced = await http.put(f"/products/{sku}", json={**body, "unit_price": 2_600})
    read = await http.get(f"/products/{sku}")

    assert created.status_code == 201
    assert replaced.status_code == 200
    assert read.json() == {**body, "unit_price": 2_600, "sku": sku, "custom": False, "components": []}


@pytest.mark.parametrize(
    "change",
    [{"unit_price": 12.5}, {"unit_price": -1}, {"sourcing": "steal"}, {"lead_time_days": -1}, {"name": ""},
     {"tracking": "rfid"}, {"colour": "red"}],
)  # fmt: skip
async def test_a_bad_product_is_refused_with_the_error_format_and_never_a_5xx(http, change):
    body = {"name": "Lamp", "unit_price": 100, "sourcing": "buy", "lead_time_days": 1, **change}
    sku = uid("SKU")

    response = await http.put(f"/products/{sku}", json=body)

    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "validation_failed"
    assert set(response.json()["error"]["fields"]) == set(change)
    assert (await http.get(f"/products/{sku}")).status_code == 404  # nothing was stored


async def test_listing_products_by_sku_leaves_unknown_skus_out(http):
    first, second = await a_product(http), await a_product(http)

    response = await http.get("/products", params=[("sku", first), ("sku", "NOPE"), ("sku", second)])

    assert [p["sku"] for p in response.json()] == [first, second]


async def test_an_unknown_product_is_not_found(http):
    product = await http.get(f"/products/{uid('SKU')}")
    stock = await http.get(f"/stock/{uid('SKU')}")

    assert (product.status_code, product.json()["error"]["code"]) == (404, "not_found")
    assert (stock.status_code, stock.json()["error"]["code"]) == (404, "not_found")


async def test_a_new_product_has_empty_stock(http):
    sku = await a_product(http)

    assert (await http.get(f"/stock/{sku}")).json() == {
        "sku": sku, "on_hand": 0, "reserved": 0, "available": 0, "warehouses": {}}  # fmt: skip


async def test_counting_each_warehouse_sums_into_on_hand_with_a_breakdown(http):
    sku = await a_product(http, on_hand=4)

    await http.put(f"/stock/{sku}", json={"on_hand": 6, "warehouse": "east"})
    await http.put(f"/stock/{sku}", json={"on_hand": 3})  # the default warehouse
    body = (await http.get(f"/stock/{sku}")).json()

    assert (body["on_hand"], body["reserved"], body["available"]) == (9, 0, 9)
    assert body["warehouses"] == {"east": {"on_hand": 6}, "main": {"on_hand": 3}}


async def test_counting_stock_of_an_unknown_product_is_refused(http):
    sku = uid("SKU")

    response = await http.put(f"/stock/{sku}", json={"on_hand": 3})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_product"
    assert (await http.get(f"/stock/{sku}")).status_code == 404  # no count without a product


@pytest.mark.parametrize("body", [{"on_hand": -1}, {"on_hand": 1.5}, {"on_hand": "3"}, {},
                                  {"on_hand": 1, "warehouse": "a.b"}])  # fmt: skip
async def test_a_bad_count_is_refused(http, body):
    sku = await a_product(http, on_hand=2)

    response = await http.put(f"/stock/{sku}", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert await stock_of(http, sku) == (2, 0, 2)  # the count before stands


async def test_a_count_below_what_is_reserved_is_refused_r4_1(http, probe):
    sku = await a_product(http, on_hand=10)
    order_id = uid("SO")
    await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=sku, quantity=6)]))
    await probe.wait_for("StockReserved", order_id)

    refused = await http.put(f"/stock/{sku}", json={"on_hand": 5})
    accepted = await http.put(f"/stock/{sku}", json={"on_hand": 6})

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "below_reserved"
    assert accepted.status_code == 200
    assert await stock_of(http, sku) == (6, 6, 0)


# --- custom products (R2.2) and bundles (R1.9) ------------------------------------------------


def bundle_body(*parts: tuple[str, int], **more):
    return {"name": "Desk set", "unit_price": 30_000, "sourcing": "buy", "lead_time_days": 1,
            "components": [{"sku": s, "quantity": q} for s, q in parts], **more}  # fmt: skip


async def test_a_custom_bundle_reads_back_with_its_components_and_has_no_stock_to_count(http):
    lamp, bulb, sku = await a_product(http), await a_product(http), uid("SET")

    created = await http.put(f"/products/{sku}", json=bundle_body((lamp, 1), (bulb, 2), custom=True))
    read = await http.get(f"/products/{sku}")
    listed = await http.get("/products", params=[("sku", sku)])
    count = await http.put(f"/stock/{sku}", json={"on_hand": 5})

    assert created.status_code == 201, created.text
    assert read.json()["custom"] is True
    assert read.json()["components"] == [{"sku": lamp, "quantity": 1}, {"sku": bulb, "quantity": 2}]
    assert listed.json()[0]["components"] == read.json()["components"]
    assert count.status_code == 422
    assert count.json()["error"]["code"] == "bundle_has_no_stock"
    assert lamp in count.json()["error"]["message"]


async def test_a_bundle_breaking_a_catalogue_rule_is_refused_with_field_errors_and_not_stored(http):
    lamp = await a_product(http)
    inner = uid("SET")
    assert (await http.put(f"/products/{inner}", json=bundle_body((lamp, 1)))).status_code == 201
    sku = uid("SET")

    unknown = await http.put(f"/products/{sku}", json=bundle_body(("NOPE-" + sku, 1), (inner, 1)))
    duplicate = await http.put(f"/products/{sku}", json=bundle_body((lamp, 1), (lamp, 1)))
    itself = await http.put(f"/products/{sku}", json=bundle_body((sku, 1)))
    zero = await http.put(f"/products/{sku}", json=bundle_body((lamp, 0)))

    assert unknown.status_code == 422
    assert set(unknown.json()["error"]["fields"]) == {"components.0.sku", "components.1.sku"}
    assert "is a bundle itself" in unknown.json()["error"]["fields"]["components.1.sku"]
    assert (duplicate.status_code, set(duplicate.json()["error"]["fields"])) == (422, {"components.1.sku"})
    assert (itself.status_code, set(itself.json()["error"]["fields"])) == (422, {"components.0.sku"})
    assert zero.status_code == 422 and set(zero.json()["error"]["fields"]) == {"components.0.quantity"}
    assert (await http.get(f"/products/{sku}")).status_code == 404


async def test_a_component_or_a_counted_product_cannot_become_a_bundle(http):
    lamp, bulb, counted = await a_product(http), await a_product(http), await a_product(http, on_hand=4)
    sku = uid("SET")
    assert (await http.put(f"/products/{sku}", json=bundle_body((lamp, 1)))).status_code == 201

    nested = await http.put(f"/products/{lamp}", json=bundle_body((bulb, 1)))
    stocked = await http.put(f"/products/{counted}", json=bundle_body((bulb, 1)))

    assert nested.status_code == 422 and sku in nested.json()["error"]["fields"]["components"]
    assert stocked.status_code == 422
    assert "no stock of its own" in stocked.json()["error"]["fields"]["components"]
    assert (await http.get(f"/products/{lamp}")).json()["components"] == []
