"""Reading intake's public order (API.md) into what the return policy needs."""

from __future__ import annotations

import httpx
import pytest

from services.aftersales.adapters.intake import HttpOrderLookup, order_from_json
from shared.errors import DependencyUnavailable


def intake_order(**extra):  # type: ignore[no-untyped-def]
    return {
        "order_id": "SO202405001",
        "customer_id": "CUST-1",
        "status": "completed",
        "lines": [
            {"sku": "A", "name": "Lamp", "quantity": 2, "unit_price": 12000, "amount": 24000},
            {"sku": "B", "name": "Shade", "quantity": 1, "unit_price": 3000, "amount": 3000},
        ],
        **extra,
    }


def test_an_intake_order_gives_status_customer_prices_and_total():
    order = order_from_json(intake_order(discount=1000, freight=500, total=26500))

    assert (order.order_id, order.customer_id, order.status, order.total) == (
        "SO202405001",
        "CUST-1",
        "completed",
        26500,
    )
    assert order.unit_price("A") == 12000 and order.shipped("A") == 2
    assert order.ordered_units() == {"A": 2, "B": 1}


def test_without_a_total_it_is_lines_less_discount_plus_freight():
    assert order_from_json(intake_order(discount=1000, freight=500)).total == 26500


def test_a_partly_shipped_line_limits_what_can_come_back():
    body = intake_order()
    body["lines"][0]["shipped_quantity"] = 1

    assert order_from_json(body).shipped("A") == 1


def test_an_order_without_lines_cannot_be_read():
    with pytest.raises(KeyError):
        order_from_json({"order_id": "SO1", "customer_id": "C", "status": "completed"})


def lookup_answering(status: int) -> HttpOrderLookup:
    """The lookup against an intake that answers every GET with ``status`` and the error body."""
    body = {"error": {"code": "x", "message": "x", "fields": {}}}
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return HttpOrderLookup(httpx.AsyncClient(transport=transport), "http://intake")


@pytest.mark.parametrize("status", [400, 404, 414, 422])
async def test_an_id_intake_refuses_or_does_not_know_is_no_such_order_never_a_retry(status: int):
    # An over-long order id once came back as a 503 with Retry-After (issue 7): a client error.
    assert await lookup_answering(status).get("SO" + "9" * 60) is None


@pytest.mark.parametrize("status", [401, 403, 429, 500, 502, 503])
async def test_intake_failing_or_refusing_this_services_key_is_unavailable_for_now(status: int):
    with pytest.raises(DependencyUnavailable):
        await lookup_answering(status).get("SO202405001")


async def test_an_answer_that_means_our_call_is_wrong_is_a_bug_not_a_retry():
    with pytest.raises(RuntimeError):
        await lookup_answering(405).get("SO202405001")


def test_a_net_priced_order_is_refunded_with_its_vat():
    """Issue 5 (R1.2, R6.2): net prices get VAT added, so a return of them refunds the gross price."""
    order = order_from_json(intake_order(total=30_510, prices_include_tax=False, tax_rate_bp=1300))

    assert order.unit_price("A") == 13_560 and order.unit_price("B") == 3_390
    assert order.total == 30_510  # the ledger's cap stays what the customer paid
