"""Returning a bundle (issue 8, R1.9, R8.3): it comes back whole, as the bundle SKU at the bundle's
price for the refund and the order, and its components go back on the shelf."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.aftersales.adapters.documents import from_doc, to_doc
from services.aftersales.adapters.intake import order_from_json
from services.aftersales.domain import RefundLedger, ReturnRefused, review
from shared.contracts import IssueCreditNote, ReturnCompleted
from tests.unit.aftersales.builders import AT, a_return

LATER = AT + timedelta(hours=1)
SET_LINE = {"sku": "SET-1", "name": "Desk set", "quantity": 2, "unit_price": 15000, "amount": 30000,
            "components": [{"sku": "LAMP-1", "quantity": 1}, {"sku": "SHADE-R", "quantity": 2}]}  # fmt: skip
LAMP_LINE = {
    "sku": "LAMP-1",
    "name": "Lamp",
    "quantity": 1,
    "unit_price": 12000,
    "amount": 12000,
    "components": [],
}


def an_order_with_a_bundle():
    return order_from_json({"order_id": "SO202405001", "customer_id": "CUST-1", "status": "delivered",
                            "lines": [SET_LINE, LAMP_LINE], "total": 42000})  # fmt: skip


def test_intake_s_bundle_line_names_its_components_and_an_older_intake_none():
    order = an_order_with_a_bundle()

    assert order.components("SET-1") == (("LAMP-1", 1), ("SHADE-R", 2))
    assert order.components("LAMP-1") == ()
    old = order_from_json({"order_id": "SO1", "customer_id": "C", "status": "delivered", "total": 1,
                           "lines": [{"sku": "A", "quantity": 1, "unit_price": 1, "amount": 1}]})  # fmt: skip
    assert old.lines[0].components == ()


def test_a_returned_bundle_restocks_its_components_and_is_refunded_and_reported_as_the_bundle():
    ret = a_return(an_order_with_a_bundle(), **{"SET-1": 1, "LAMP-1": 1})

    (restock,) = ret.inspect("pass", by="qc", at=LATER)
    (credit,) = ret.on_return_restocked(RefundLedger(ret.order_id), at=LATER)
    (completed,) = ret.on_credit_note_issued("CN-1", -27000, at=LATER)

    # one set = one lamp and two shades, plus the lamp returned on its own
    assert [(ln.sku, ln.quantity) for ln in restock.lines] == [("LAMP-1", 2), ("SHADE-R", 2)]
    assert isinstance(credit, IssueCreditNote)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in credit.lines] == [
        ("SET-1", 1, 15000),
        ("LAMP-1", 1, 12000),
    ]
    assert credit.total == 27000
    assert isinstance(completed, ReturnCompleted)
    assert [(ln.sku, ln.quantity) for ln in completed.lines] == [("SET-1", 1), ("LAMP-1", 1)]


def test_a_component_of_a_bundle_alone_is_not_returnable_the_bundle_comes_back_whole():
    with pytest.raises(ReturnRefused) as refused:
        review(an_order_with_a_bundle(), [("SHADE-R", 1)], {})

    assert refused.value.status == 422
    assert "part of bundle SET-1; return the bundle" in refused.value.fields["lines.SHADE-R"]


def test_a_stored_return_keeps_the_bundles_components_and_an_old_one_reads_as_plain():
    ret = a_return(an_order_with_a_bundle(), **{"SET-1": 2})
    doc = to_doc(ret)

    assert from_doc(doc).lines == ret.lines
    for line in doc["lines"]:
        del line["components"]  # a return stored before bundles
    assert from_doc(doc).lines[0].components == ()
