"""Bad input at the door of running services (issue 7, "Hardening found by fuzzing" and "Limits").

What schemathesis and hand-made input found: unknown and server-owned fields, control characters
in bodies and paths, integers at 2**63, cursors that are not cursors, bodies of megabytes and
orders of hundreds of lines. Each is a 4xx with the error body, naming what was wrong, and
nothing of it is stored; none is a 5xx or a retryable 503.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.integration

SERVICES = ("intake", "inventory", "billing", "aftersales")
TOO_BIG = 2**63


@pytest.fixture(scope="module")
def stack(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    return make_stack(*SERVICES)  # type: ignore[no-any-return]


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {name: stack.client(name) for name in SERVICES}  # the admin key: every route
    yield clients
    for client in clients.values():
        await client.aclose()


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused(response: httpx.Response, status: int = 422, code: str = "validation_failed") -> dict[str, str]:
    """The fields of a refusal with the contract's error body (API.md)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["code"] == code, error
    assert "Retry-After" not in response.headers  # a client error never looks retryable
    return error["fields"]  # type: ignore[no-any-return]


def an_order(customer_id: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "channel": "storefront",
        "delivery_address": "Shanghai, Pudong, 88 Century Ave",
        "required_by": (date.today() + timedelta(days=14)).isoformat(),  # R1.4
        "contact": {"name": "Li Lei", "phone": "13800138000"},
        "lines": lines,
        **extra,
    }


async def a_product(api: dict[str, httpx.AsyncClient]) -> str:
    sku = uid("SKU")
    body = {"name": f"Lamp {sku}", "unit_price": 12_000, "sourcing": "buy", "lead_time_days": 5}
    assert (await api["inventory"].put(f"/products/{sku}", json=body)).status_code == 201
    return sku


async def a_customer(api: dict[str, httpx.AsyncClient]) -> str:
    customer_id = uid("CUST")
    body = {"name": "Shanghai Lamp Trading Co., Ltd.", "payment_terms": "credit", "credit_limit": 10**9}
    assert (await api["billing"].put(f"/customers/{customer_id}", json=body)).status_code == 201
    return customer_id


# --- unknown and server-owned fields (mass assignment) ----------------------------------------


async def test_server_owned_fields_in_a_body_are_a_422_naming_them_and_nothing_is_stored(api):
    customer_id, sku = uid("CUST"), uid("SKU")
    order = an_order(customer_id, [{"sku": sku, "quantity": 1}], status="approved")
    customer = {"name": "ACME", "payment_terms": "credit", "credit_limit": 1, "exposure": 0}
    product = {"name": "Lamp", "unit_price": 1, "sourcing": "buy", "lead_time_days": 1}

    answers = {
        "status": await api["intake"].post("/orders", json=order),
        "exposure": await api["billing"].put(f"/customers/{customer_id}", json=customer),
        "reserved": await api["inventory"].put(f"/stock/{sku}", json={"on_hand": 5, "reserved": 5}),
        "history": await api["inventory"].put(f"/products/{sku}", json={**product, "history": []}),
        "refund_total": await api["aftersales"].post("/returns", json={
            "order_id": "SO202405001", "lines": [{"sku": sku, "quantity": 1}], "reason": "quality_fault",
            "refund_total": 1}),
    }  # fmt: skip

    for field, response in answers.items():
        assert refused(response) == {field: "unknown field"}, field
    assert (await api["billing"].get(f"/customers/{customer_id}")).status_code == 404
    assert (await api["inventory"].get(f"/products/{sku}")).status_code == 404


# --- control characters --------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["A\x00B", "bell\x07", "\x1b[31mred\x1b[0m", "evil\u202etxt.exe"],
                         ids=["nul", "bel", "ansi", "rlo"])  # fmt: skip
async def test_control_characters_in_a_body_are_a_422_naming_the_field(api, bad: str):
    customer_id = uid("CUST")
    sku = await a_product(api)

    name = await api["billing"].put(
        f"/customers/{customer_id}", json={"name": bad, "payment_terms": "credit", "credit_limit": 1}
    )
    address = await api["intake"].post(
        "/orders", json=an_order(customer_id, [{"sku": sku, "quantity": 1}], delivery_address=bad)
    )
    contact = await api["intake"].post(
        "/orders",
        json={**an_order(customer_id, [{"sku": sku, "quantity": 1}]), "contact": {"name": bad, "phone": "1"}},
    )

    assert list(refused(name)) == ["name"]
    assert list(refused(address)) == ["delivery_address"]
    assert list(refused(contact)) == ["contact.name"]
    assert (await api["billing"].get(f"/customers/{customer_id}")).status_code == 404


async def test_remarks_may_span_lines_but_hold_no_other_control_characters(api):
    customer_id, sku = await a_customer(api), await a_product(api)
    lines = [{"sku": sku, "quantity": 1}]

    remarks = "gift wrap\nlogo:\tACME"

    kept = await api["intake"].post("/orders", json=an_order(customer_id, lines, remarks=remarks))
    bell = await api["intake"].post("/orders", json=an_order(customer_id, lines, remarks="gift wrap\x07"))

    assert kept.status_code == 201, kept.text
    assert kept.json()["remarks"] == "gift wrap\nlogo:\tACME"
    assert list(refused(bell)) == ["remarks"]


@pytest.mark.parametrize(
    ("service", "method", "url", "field"),
    [("billing", "PUT", "/customers/A%00B", "path"),
     ("inventory", "GET", "/stock/SKU%1B%5B2J", "path"),
     ("intake", "GET", "/orders/SO%E2%80%AE1", "path"),
     ("intake", "GET", "/orders?customer_id=CUST%07", "customer_id"),
     ("aftersales", "GET", "/returns?order_id=%E2%81%A6SO1", "order_id")],
)  # fmt: skip
async def test_control_characters_in_a_path_or_query_are_a_422(api, service, method, url, field):
    body = {"name": "ACME", "payment_terms": "credit", "credit_limit": 1} if method == "PUT" else None

    response = await api[service].request(method, url, json=body)

    assert list(refused(response)) == [field]


async def test_a_customer_id_with_a_nul_is_never_stored(api):
    customer = {"name": "ACME", "payment_terms": "credit", "credit_limit": 1}

    refused(await api["billing"].put("/customers/A%00B", json=customer))

    assert (await api["billing"].get("/customers/AB")).status_code == 404


# --- integer bounds ------------------------------------------------------------------------


async def test_an_integer_at_2_63_is_a_422_naming_the_field_never_a_500(api):
    sku, customer_id = await a_product(api), uid("CUST")
    product = {"name": "Lamp", "unit_price": 1, "sourcing": "buy", "lead_time_days": 1}
    customer = {"name": "ACME", "payment_terms": "credit", "credit_limit": TOO_BIG}

    answers = {
        "credit_limit": await api["billing"].put(f"/customers/{customer_id}", json=customer),
        "unit_price": await api["inventory"].put(f"/products/{sku}", json={**product, "unit_price": TOO_BIG}),
        "lead_time_days": await api["inventory"].put(f"/products/{sku}",
                                                     json={**product, "lead_time_days": TOO_BIG}),
        "on_hand": await api["inventory"].put(f"/stock/{sku}", json={"on_hand": TOO_BIG}),
        "amount": await api["billing"].post("/payments", json={"order_id": "SO1", "amount": TOO_BIG,
                                                               "reference": uid("BANK")}),
        "lines.0.unit_price": await api["intake"].post(
            "/orders", json=an_order(customer_id, [{"sku": sku, "quantity": 1, "unit_price": TOO_BIG}])),
        "discount": await api["intake"].post(
            "/orders", json=an_order(customer_id, [{"sku": sku, "quantity": 1}], discount=TOO_BIG)),
        "lines.0.quantity": await api["aftersales"].post("/returns", json={
            "order_id": "SO1", "lines": [{"sku": sku, "quantity": TOO_BIG}], "reason": "quality_fault"}),
    }  # fmt: skip

    for field, response in answers.items():
        assert list(refused(response)) == [field], field
    assert (await api["inventory"].get(f"/products/{sku}")).json()["unit_price"] == 12_000


async def test_a_lead_time_that_would_overflow_the_supply_date_is_refused_at_the_door(api):
    # It once parked RaiseSupply with "OverflowError: date value out of range" (issue 7).
    sku = uid("SKU")
    product = {"name": "Lamp", "unit_price": 1, "sourcing": "buy", "lead_time_days": 100_000_000}

    fields = refused(await api["inventory"].put(f"/products/{sku}", json=product))

    assert list(fields) == ["lead_time_days"]
    assert (await api["inventory"].get(f"/products/{sku}")).status_code == 404


@pytest.mark.parametrize("cursor", ["1" * 26, "²", "١٢", "12a", "-1", "1\n"])
async def test_a_cursor_that_is_not_one_the_api_gave_out_is_a_422(api, cursor: str):
    response = await api["intake"].get("/orders", params={"cursor": cursor})

    assert list(refused(response)) == ["cursor"]


# --- sizes ---------------------------------------------------------------------------------


async def test_a_body_over_one_mebibyte_is_a_413_before_it_is_read(api):
    customer_id = uid("CUST")
    body = {"name": "x" * (2 * 1024 * 1024), "payment_terms": "credit", "credit_limit": 1}

    response = await api["billing"].put(f"/customers/{customer_id}", json=body)

    assert refused(response, 413, "payload_too_large") == {"body": "at most 1048576 bytes"}
    assert (await api["billing"].get(f"/customers/{customer_id}")).status_code == 404


async def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(api):
    async def address() -> AsyncIterator[bytes]:
        yield b'{"customer_id": "CUST-1", "channel": "storefront", "delivery_address": "'
        for _ in range(4 * 1024):  # 4 MiB of address, a KiB at a time
            yield b"x" * 1024
        yield b'"}'

    json_type = {"Content-Type": "application/json"}

    response = await api["intake"].post("/orders", content=address(), headers=json_type)

    assert "content-length" not in response.request.headers
    assert refused(response, 413, "payload_too_large") == {"body": "at most 1048576 bytes"}
    assert (await api["intake"].get("/health")).status_code == 200


async def test_more_lines_than_the_setting_is_a_422_naming_lines(api):
    customer_id, sku = await a_customer(api), await a_product(api)
    line = {"sku": sku, "quantity": 1}

    over = await api["intake"].post("/orders", json=an_order(customer_id, [line] * 501))
    at = await api["intake"].post("/orders", json=an_order(customer_id, [line] * 500))

    assert refused(over) == {"lines": "at most 500 lines per order, not 501"}
    assert at.status_code == 201, at.text
    assert len(at.json()["lines"]) == 500


# --- aftersales asking intake ----------------------------------------------------------------


async def test_an_over_long_order_id_on_a_return_is_a_422_not_a_retryable_503(api):
    lines = [{"sku": "LAMP-1", "quantity": 1}]

    long_id = await api["aftersales"].post("/returns", json={"order_id": "SO" + "9" * 60, "lines": lines,
                                                             "reason": "quality_fault"})  # fmt: skip
    unknown = await api["aftersales"].post("/returns", json={"order_id": "SO209901999", "lines": lines,
                                                             "reason": "quality_fault"})  # fmt: skip

    assert list(refused(long_id)) == ["order_id"]
    assert refused(unknown, 422, "unknown_order") == {"order_id": "unknown order"}
