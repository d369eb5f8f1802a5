"""Intake's HTTP contract (API.md) against the real store and broker: placing, reading, listing."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.barriers import synced

pytestmark = pytest.mark.integration


async def orders_of(api, customer_id: str) -> list[str]:
    """The ids of the customer's orders, newest first (GET /orders)."""
    response = await api.get("/orders", params={"customer_id": customer_id})
    assert response.status_code == 200, response.text
    return [o["order_id"] for o in response.json()["items"]]


def body(door, customer=None, lines=None, **extra):
    customer = customer or door.customer()
    lines = lines if lines is not None else [(door.product(price=12_000), 3)]
    return {
        "customer_id": customer,
        "channel": "storefront",
        "delivery_address": "Shanghai, Pudong, 88 Century Ave",
        "required_by": (date.today() + timedelta(days=14)).isoformat(),  # R1.4
        "contact": {"name": "Li Lei", "phone": "13800138000"},
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
        **extra,
    }


async def test_a_placed_order_is_numbered_priced_and_asks_billing_for_credit(api, door, probe):
    sku = door.product(price=12_000)
    order_body = body(door, lines=[(sku, 3)], discount=1_000, freight=500, remarks="gift wrap")

    response = await api.post("/orders", json=order_body)

    assert response.status_code == 201, response.text
    order = response.json()
    assert re.fullmatch(r"SO\d{6}\d{3,}", order["order_id"])  # R1.3
    assert order["status"] == "pending_review"
    assert order["total"] == 36_000 - 1_000 + 500  # R1.5
    assert order["lines"] == [
        {
            "sku": sku,
            "name": f"Lamp {sku}",
            "spec": None,
            "quantity": 3,
            "unit_price": 12_000,
            "amount": 36_000,
            "components": [],  # a plain product, not a bundle (R1.9)
        }
    ]
    assert order["contact"] == {"name": "Li Lei", "phone": "13800138000"}  # internal roles (issue 7)
    assert order["payment_terms"] == "credit"  # the customer's agreed terms (R3.2)
    assert order["history"][0]["status"] == "pending_review"
    [reserve] = await probe.wait_for("ReserveCredit", order["order_id"])
    assert reserve.payload["amount"] == 35_500 and reserve.producer == "intake"
    assert reserve.trace.get("traceparent")


async def test_an_order_can_be_read_back(api, door):
    placed = (await api.post("/orders", json=body(door, remarks="print logo"))).json()

    response = await api.get(f"/orders/{placed['order_id']}")

    assert response.status_code == 200
    assert response.json() == placed


async def test_an_unknown_order_is_not_found_with_the_error_format(api):
    response = await api.get("/orders/SO209901999")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_hundred_concurrent_orders_get_a_hundred_distinct_numbers(api, door):
    customer, sku = door.customer(), door.product()

    responses = await asyncio.gather(
        *(api.post("/orders", json=body(door, customer, [(sku, 1)])) for _ in range(100))
    )

    assert [r.status_code for r in responses] == [201] * 100
    assert len({r.json()["order_id"] for r in responses}) == 100  # R1.3


async def test_priority_and_flags_are_set_at_the_door(api, door):
    soon = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    sku = door.product(price=100)

    urgent = (await api.post("/orders", json=body(door, lines=[(sku, 1)], required_by=soon))).json()
    bulk = (await api.post("/orders", json=body(door, lines=[(sku, 101)]))).json()
    odd = body(door, door.customer(name="某公司"), [(sku, 1)])
    odd["contact"]["phone"] = "12345"
    flagged = (await api.post("/orders", json=odd)).json()

    assert urgent["priority"] == "urgent" and bulk["priority"] == "key"  # R1.7
    assert {"vague_customer_name", "invalid_phone"} <= set(flagged["flags"])  # R1.6
    assert flagged["status"] == "pending_review"  # flags never reject


async def test_the_same_idempotency_key_and_body_return_the_same_order(api, door, probe):
    order_body = body(door)
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    first = await api.post("/orders", json=order_body, headers=headers)
    again = await api.post("/orders", json=order_body, headers=headers)

    await synced(probe)  # each request published what it caused before answering

    assert first.status_code == again.status_code == 201
    assert again.json()["order_id"] == first.json()["order_id"]
    assert len(probe.matching("ReserveCredit", first.json()["order_id"])) == 1
    assert await orders_of(api, order_body["customer_id"]) == [first.json()["order_id"]]


async def test_an_idempotency_key_is_the_callers_own_and_the_history_names_who_placed(stack, door):
    order_body = body(door)
    headers = {"Idempotency-Key": "order-1"}  # two integrations picking the same key by chance

    async with stack.client("intake", as_="storefront") as shop, stack.client("intake", as_="erp") as erp:
        by_shop = await shop.post("/orders", json=order_body, headers=headers)
        by_erp = await erp.post("/orders", json=order_body, headers=headers)
        shop_again = await shop.post("/orders", json=order_body, headers=headers)
    async with stack.client("intake", as_="ops") as ops:
        seen = (await ops.get(f"/orders/{by_shop.json()['order_id']}")).json()

    assert by_shop.status_code == by_erp.status_code == 201
    assert by_shop.json()["order_id"] != by_erp.json()["order_id"]  # never another caller's order
    assert shop_again.json()["order_id"] == by_shop.json()["order_id"]
    assert (seen["history"][0]["status"], seen["history"][0]["by"]) == ("pending_review", "shop.web")


async def test_racing_duplicates_of_one_idempotency_key_make_one_order(api, door):
    order_body = body(door)
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    responses = await asyncio.gather(
        *(api.post("/orders", json=order_body, headers=headers) for _ in range(10))
    )

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["order_id"] for r in responses}) == 1
    listed = await api.get("/orders", params={"customer_id": order_body["customer_id"]})
    assert len(listed.json()["items"]) == 1


async def test_an_idempotency_key_reused_with_another_body_is_refused(api, door):
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    await api.post("/orders", json=body(door), headers=headers)
    other = body(door)

    response = await api.post("/orders", json=other, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert await orders_of(api, other["customer_id"]) == []


async def test_orders_are_listed_newest_first_by_filter_and_page(api, door):
    customer = door.customer()
    placed = [(await api.post("/orders", json=body(door, customer))).json()["order_id"] for _ in range(5)]
    await api.post("/orders", json={**body(door, customer), "channel": "edi"})

    first = (
        await api.get("/orders", params={"customer_id": customer, "channel": "storefront", "limit": 3})
    ).json()
    second = (
        await api.get(
            "/orders",
            params={
                "customer_id": customer,
                "channel": "storefront",
                "limit": 3,
                "cursor": first["next_cursor"],
            },
        )
    ).json()
    by_status = (await api.get("/orders", params={"customer_id": customer, "status": "cancelled"})).json()

    assert [o["order_id"] for o in first["items"] + second["items"]] == placed[::-1]
    assert first["next_cursor"] and second["next_cursor"] is None
    assert by_status == {"items": [], "next_cursor": None}


def malformed_bodies(door):
    sku = door.product()
    good = body(door, lines=[(sku, 1)])
    line = {"sku": sku, "quantity": 1}
    return {
        "unknown sku": ({**good, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku"),
        "code A with product B": ({**good, "lines": [{**line, "name": "Something else"}]}, "lines.0.name"),
        "zero quantity": ({**good, "lines": [{**line, "quantity": 0}]}, "lines.0.quantity"),
        "float quantity": ({**good, "lines": [{**line, "quantity": 1.5}]}, "lines.0.quantity"),
        "float price": ({**good, "lines": [{**line, "unit_price": 12.5}]}, "lines.0.unit_price"),
        "huge quantity": ({**good, "lines": [{**line, "quantity": 10**30}]}, "lines.0.quantity"),
        "wrong amount": ({**good, "lines": [{**line, "amount": 1}]}, "lines.0.amount"),
        "wrong total": ({**good, "total": 1}, "total"),
        "no lines": ({**good, "lines": []}, "lines"),
        "no customer": ({k: v for k, v in good.items() if k != "customer_id"}, "customer_id"),
        "blank customer": ({**good, "customer_id": " "}, "customer_id"),
        "unknown customer": ({**good, "customer_id": "CUST-nobody"}, "customer_id"),
        "no contact phone": ({**good, "contact": {"name": "Li Lei", "phone": ""}}, "contact.phone"),
        "unknown channel": ({**good, "channel": "fax"}, "channel"),
        "bad date": ({**good, "required_by": "next tuesday"}, "required_by"),
        "negative discount": ({**good, "discount": -5}, "discount"),
        "unknown field": ({**good, "colour": "red"}, "colour"),
        "not an object": ([good], "body"),
    }


async def test_bad_input_is_a_422_naming_the_field_and_never_a_5xx(api, door, probe):
    cases = malformed_bodies(door)
    for case, (bad, field) in cases.items():
        response = await api.post("/orders", json=bad)

        assert response.status_code == 422, (case, response.text)
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields"}, case
        assert error["code"] == "validation_failed", (case, error)
        assert field in error["fields"], (case, error)
    await synced(probe)

    customer = cases["unknown sku"][0]["customer_id"]  # every case but the customer ones orders for it
    assert await orders_of(api, customer) == []
    assert [e for e in probe.seen if e.type == "ReserveCredit" and e.payload["customer_id"] == customer] == []


async def test_malformed_json_is_a_400(api):
    response = await api.post(
        "/orders", content=b'{"customer_id": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_listing_with_a_bad_filter_or_cursor_is_a_422(api):
    for params in ({"status": "lost"}, {"channel": "fax"}, {"cursor": "abc"}, {"limit": 0}):
        response = await api.get("/orders", params=params)

        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == "validation_failed", (params, response.text)
        assert set(response.json()["error"]["fields"]) == set(params), (params, response.text)


async def test_a_dependency_that_is_down_gives_503_with_the_error_format(api, door):
    order_body = body(door)
    door.down = True
    try:
        response = await api.post("/orders", json=order_body)
    finally:
        door.down = False

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dependency_unavailable"
    assert await orders_of(api, order_body["customer_id"]) == []  # nothing was accepted


async def test_the_same_order_placed_again_soon_is_flagged_as_a_possible_duplicate(api, door):
    order_body = body(door)

    first = (await api.post("/orders", json=order_body)).json()
    second = (await api.post("/orders", json=order_body)).json()

    assert "possible_duplicate" not in first["flags"]
    assert "possible_duplicate" in second["flags"] and second["status"] == "pending_review"  # R1.6
