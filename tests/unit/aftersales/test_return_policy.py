"""The door of the return saga: the policy review (R8.3), freight payer and return numbers."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.aftersales import domain
from services.aftersales.domain import Return, ReturnReason, ReturnRefused, Status, units_claimed
from tests.unit.aftersales.builders import AT, a_return, an_order


def request(order, already=None, **lines):
    return Return.request(
        return_id="RT202405001",
        order=order,
        lines=list(lines.items()),
        reason="changed my mind",
        already_returned=already or {},
        order_seq=1,
        by="customer",
        at=AT,
    )


@pytest.mark.parametrize("status", ["shipped", "delivered", "completed", "partially_returned"])
def test_a_return_of_shipped_goods_is_accepted_and_waits_for_inspection(status):
    ret = request(an_order(status=status), **{"SKU-A": 2})

    assert ret.status is Status.AWAITING_INSPECTION
    assert [h.event for h in ret.history] == ["requested", "reviewed"]


@pytest.mark.parametrize("status", ["pending_review", "on_hold", "approved", "ready_to_ship", "cancelled"])
def test_a_return_of_an_order_that_has_not_shipped_is_refused_at_the_door(status):
    with pytest.raises(ReturnRefused) as refused:
        request(an_order(status=status), **{"SKU-A": 1})

    assert refused.value.code == "order_not_returnable"


def test_returning_more_than_was_shipped_is_refused():
    order = an_order()

    with pytest.raises(ReturnRefused) as refused:
        request(order, **{"SKU-A": 3})

    assert refused.value.code == "quantity_exceeds_shipped"
    assert "lines.SKU-A" in refused.value.fields


def test_returning_a_sku_that_is_not_on_the_order_is_refused():
    order = an_order()

    with pytest.raises(ReturnRefused) as refused:
        request(order, **{"SKU-Z": 1})

    assert refused.value.fields == {"lines.SKU-Z": "not shipped on this order"}


def test_units_already_returned_count_against_what_can_still_be_returned():
    order = an_order()

    with pytest.raises(ReturnRefused):
        request(order, already={"SKU-A": 2}, **{"SKU-A": 1})

    assert request(order, already={"SKU-A": 1}, **{"SKU-A": 1}).units == {"SKU-A": 1}


def test_units_of_a_rejected_return_do_not_count_as_returned():
    order = an_order()

    kept = a_return(order, **{"SKU-A": 1})
    refused = a_return(order, **{"SKU-A": 1, "SKU-B": 1})
    refused.inspect("fail", by="qc", at=AT, note="scratched by the customer")

    assert units_claimed([kept, refused]) == {"SKU-A": 1}


def test_returned_lines_are_priced_at_the_orders_unit_prices():
    order = an_order()

    ret = request(order, **{"SKU-A": 2})

    assert [(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in ret.lines] == [
        ("SKU-A", 2, 10000, 20000)
    ]


def test_a_sku_named_twice_in_a_request_is_one_return_line():
    order = an_order()

    ret = Return.request(
        return_id="RT1",
        order=order,
        lines=[("SKU-A", 1), ("SKU-A", 1)],
        reason="x",
        already_returned={},
        order_seq=1,
        by="customer",
        at=AT,
    )

    assert ret.units == {"SKU-A": 2}


@pytest.mark.parametrize(
    ("reason", "code", "payer"),
    [
        ("customer_choice", ReturnReason.CUSTOMER_CHOICE, "customer"),
        ("changed my mind", ReturnReason.CUSTOMER_CHOICE, "customer"),
        ("quality_fault", ReturnReason.QUALITY_FAULT, "company"),
        ("the lamp has a defect", ReturnReason.QUALITY_FAULT, "company"),
        ("damaged", ReturnReason.DAMAGED, "company"),
        ("box arrived broken", ReturnReason.DAMAGED, "company"),
        ("wrong item", ReturnReason.WRONG_ITEM, "company"),
        ("发错货了", ReturnReason.WRONG_ITEM, "company"),
    ],
)
def test_return_freight_is_paid_by_whoever_caused_the_return(reason, code, payer):
    order = an_order()

    ret = a_return(order, reason=reason)

    assert (ret.reason_code, ret.freight_payer) == (code, payer)
    assert ret.reason == reason


def test_return_numbers_follow_rt_yyyymm_serial():
    assert domain.format_return_id(datetime(2024, 5, 1, tzinfo=UTC), 7) == "RT202405007"
    assert domain.counter_key(datetime(2024, 12, 31, tzinfo=UTC)) == "returns:202412"


def test_the_domain_imports_no_io_library():
    forbidden = {"pymongo", "fastapi", "aio_pika", "opentelemetry", "httpx"}
    for path in Path(domain.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & forbidden, path.name
