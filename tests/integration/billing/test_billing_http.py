"""Billing's HTTP contract (API.md): customers, credit figures, payments, error format."""

from __future__ import annotations

import pytest

from shared.contracts import ReserveCredit
from tests.integration.billing.builders import a_customer, credit_of, uid
from tests.support.barriers import synced

pytestmark = pytest.mark.integration


async def test_a_customer_put_can_be_read_back_with_its_credit_figures(http):
    customer_id = uid("CUST")
    body = {"name": "Hangzhou Light Co., Ltd.", "payment_terms": "credit", "credit_limit": 50_000}

    created = await http.put(f"/customers/{customer_id}", json=body)
    updated = await http.put(f"/customers/{customer_id}", json={**body, "credit_limit": 80_000})
    read = await credit_of(http, customer_id)

    assert (created.status_code, updated.status_code) == (201, 200)
    assert read["credit_limit"] == 80_000
    assert (read["exposure"], read["available_credit"]) == (0, 80_000)


async def test_an_unknown_customer_is_not_found_with_the_error_body(http):
    response = await http.get(f"/customers/{uid('CUST')}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "change",
    [
        {"credit_limit": 100.5},
        {"credit_limit": 100.0},
        {"credit_limit": -1},
        {"payment_terms": "barter"},
        {"name": ""},
        {"colour": "red"},
    ],
)
async def test_a_bad_customer_is_refused_with_the_error_format_and_never_a_5xx(http, change):
    body = {"name": "Lamp Co.", "payment_terms": "credit", "credit_limit": 100, **change}
    customer_id = uid("CUST")

    response = await http.put(f"/customers/{customer_id}", json=body)

    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "validation_failed"
    assert set(response.json()["error"]["fields"]) == set(change)
    after = await http.get(f"/customers/{customer_id}")
    assert (after.status_code, after.json()["error"]["code"]) == (404, "not_found")  # not stored


async def test_a_payment_for_an_order_billing_never_saw_is_not_found(http, probe):
    order_id = uid("SO")
    payment = {"order_id": order_id, "amount": 100, "reference": uid("TT")}

    response = await http.post("/payments", json=payment)
    await synced(probe)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert probe.matching("PaymentReceived", order_id) == []


@pytest.mark.parametrize("body", [{"amount": 0}, {"amount": 1.5}, {"reference": ""}, {}])
async def test_a_bad_payment_is_refused(http, probe, body):
    order_id = uid("SO")
    full = {"order_id": order_id, "amount": 100, "reference": "TT-1", **body}

    response = await http.post("/payments", json=full if body else {})
    await synced(probe)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == (set(body) or {"order_id", "amount", "reference"})
    assert probe.matching("PaymentReceived", order_id) == []


async def test_a_payment_is_recorded_once_per_reference_and_lowers_exposure(http, probe):
    customer_id = await a_customer(http, limit=100_000)
    order_id = uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=40_000))
    await probe.wait_for("CreditReserved", order_id)
    body = {"order_id": order_id, "amount": 15_000, "reference": f"TT.{uid('2024')}"}

    first = await http.post("/payments", json=body)
    again = await http.post("/payments", json=body)
    conflict = await http.post("/payments", json={**body, "amount": 16_000})
    await synced(probe)  # each request published what it caused before answering

    assert (first.status_code, again.status_code, conflict.status_code) == (201, 201, 409)
    assert conflict.json()["error"]["code"] == "payment_conflict"
    assert first.json()["payment_id"] == again.json()["payment_id"]
    assert (await credit_of(http, customer_id))["exposure"] == 25_000
    [received] = probe.matching("PaymentReceived", order_id)
    assert received.payload["amount"] == 15_000


async def test_invoices_need_an_order_or_a_customer_to_list(http):
    unfiltered = await http.get("/invoices")

    assert (unfiltered.status_code, unfiltered.json()["error"]["code"]) == (422, "validation_failed")
    assert (await http.get("/invoices", params={"order_id": uid("SO")})).json() == []
