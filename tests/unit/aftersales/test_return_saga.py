"""The return saga (R8.3): inspection -> restock -> credit note -> completed, or rejected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.aftersales.domain import InvalidTransition, RefundLedger, Status
from shared.contracts import IssueCreditNote, RestockReturn, ReturnCompleted, ReturnRejected
from tests.unit.aftersales.builders import AT, a_return, an_order

LATER = AT + timedelta(hours=1)


def restocked(ret, ledger=None):
    return ret.on_return_restocked(ledger or RefundLedger(ret.order_id), at=LATER)


def test_a_passed_inspection_sends_the_goods_back_to_stock():
    ret = a_return(an_order(), **{"SKU-A": 2})

    sent = ret.inspect("pass", by="qc-li", at=LATER, note="sellable")

    assert ret.status is Status.RESTOCKING
    assert sent == [RestockReturn(order_id=ret.order_id, return_id=ret.return_id, lines=sent[0].lines)]
    assert [(ln.sku, ln.quantity) for ln in sent[0].lines] == [("SKU-A", 2)]


def test_restocked_goods_are_refunded_with_a_credit_note_at_the_orders_prices():
    ret = a_return(an_order(), **{"SKU-A": 1})
    ret.inspect("pass", by="qc", at=LATER)

    (credit,) = restocked(ret)

    assert ret.status is Status.REFUNDING
    assert isinstance(credit, IssueCreditNote)
    assert (credit.return_id, credit.customer_id, credit.total) == (ret.return_id, "CUST-1", 10000)
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.amount) for ln in credit.lines] == [
        ("SKU-A", 1, 10000, 10000)
    ]


def test_a_credit_note_completes_the_return_and_tells_everyone():
    ret = a_return(an_order(), **{"SKU-A": 2, "SKU-B": 1})
    ret.inspect("pass", by="qc", at=LATER)
    restocked(ret)

    (done,) = ret.on_credit_note_issued("CN202405001", -30000, at=LATER)

    assert ret.status is Status.COMPLETED
    assert isinstance(done, ReturnCompleted)
    assert (done.order_id, done.return_id, done.credit_note_id) == (
        ret.order_id,
        ret.return_id,
        "CN202405001",
    )
    assert done.refund_total == 30000
    assert {ln.sku: ln.quantity for ln in done.lines} == {"SKU-A": 2, "SKU-B": 1}
    assert ret.credit_note_total == -30000


def test_returning_the_whole_order_refunds_its_total_with_discount_and_freight():
    order = an_order(total=30000 - 2000 + 800, **{"SKU-A": 2, "SKU-B": 1})  # discount 20.00, freight 8.00
    ret = a_return(order, **{"SKU-A": 2, "SKU-B": 1})
    ret.inspect("pass", by="qc", at=LATER)

    (credit,) = restocked(ret)

    assert credit.total == ret.refund_total == 28800
    assert sum(ln.amount for ln in credit.lines) == 30000


def test_the_return_that_brings_the_last_unit_back_refunds_the_rest_of_the_order_total():
    order = an_order(total=28800, **{"SKU-A": 2, "SKU-B": 1})
    ledger = RefundLedger(order.order_id)
    first = a_return(order, **{"SKU-A": 2})
    last = a_return(order, seq=2, **{"SKU-B": 1})
    for ret in (first, last):
        ret.inspect("pass", by="qc", at=LATER)

    restocked(first, ledger)
    restocked(last, ledger)

    assert (first.refund_total, last.refund_total) == (20000, 8800)
    assert ledger.refunded() == order.total


def test_a_refund_never_exceeds_what_is_left_of_what_the_customer_paid():
    order = an_order(total=5000, **{"SKU-A": 1, "SKU-B": 1})  # 200.00 of goods, 150.00 discount
    ret = a_return(order, **{"SKU-A": 1})
    ret.inspect("pass", by="qc", at=LATER)

    (credit,) = restocked(ret)

    assert credit.total == 5000
    assert [ln.amount for ln in credit.lines] == [10000]


def test_a_refund_is_decided_once_even_if_settled_again():
    order = an_order(total=28800)
    ledger = RefundLedger(order.order_id)
    ret = a_return(order, **{"SKU-A": 2, "SKU-B": 1})

    first = ledger.settle(ret.return_id, ret.lines, order_total=28800, ordered_units=ret.ordered_units)
    again = ledger.settle(ret.return_id, ret.lines, order_total=28800, ordered_units=ret.ordered_units)

    assert first == again == 28800
    assert ledger.refunded() == 28800


def test_a_failed_inspection_rejects_the_return_and_restocks_and_refunds_nothing():
    ret = a_return(an_order())

    sent = ret.inspect("fail", by="qc", at=LATER, note="used and scratched")

    assert ret.status is Status.REJECTED
    assert sent == [
        ReturnRejected(order_id=ret.order_id, return_id=ret.return_id, reason="used and scratched")
    ]
    assert restocked(ret) == []
    assert ret.on_credit_note_issued("CN1", -1, at=LATER) == []
    assert ret.refund_total is None


def test_repeating_the_same_inspection_result_changes_nothing():
    ret = a_return(an_order())
    ret.inspect("pass", by="qc", at=LATER)
    history = list(ret.history)

    assert ret.inspect("pass", by="qc", at=LATER) == []
    assert ret.history == history


def test_a_different_inspection_result_after_the_verdict_is_a_conflict():
    ret = a_return(an_order())
    ret.inspect("pass", by="qc", at=LATER)

    with pytest.raises(InvalidTransition):
        ret.inspect("fail", by="qc", at=LATER)


def test_an_unknown_inspection_result_is_refused():
    with pytest.raises(InvalidTransition):
        a_return(an_order()).inspect("maybe", by="qc", at=LATER)


def test_replies_that_arrive_before_their_step_are_ignored():
    ret = a_return(an_order())

    assert restocked(ret) == []
    assert ret.on_credit_note_issued("CN1", -10000, at=LATER) == []
    assert ret.status is Status.AWAITING_INSPECTION


def test_duplicate_replies_are_ignored():
    ret = a_return(an_order())
    ret.inspect("pass", by="qc", at=LATER)
    restocked(ret)
    ret.on_credit_note_issued("CN1", -10000, at=LATER)
    history = list(ret.history)

    assert restocked(ret) == []
    assert ret.on_credit_note_issued("CN2", -10000, at=LATER) == []
    assert (ret.status, ret.credit_note_id, ret.history) == (Status.COMPLETED, "CN1", history)


def test_every_step_is_recorded_with_who_when_and_why():
    ret = a_return(an_order(), reason="damaged in transit")
    ret.inspect("pass", by="qc-li", at=LATER, note="box dented, goods fine")
    restocked(ret)
    ret.on_credit_note_issued("CN1", -10000, at=LATER)

    steps = [(h.event, h.status, h.by) for h in ret.history]

    assert steps == [
        ("requested", "requested", "customer"),
        ("reviewed", "awaiting_inspection", "policy"),
        ("inspection_passed", "restocking", "qc-li"),
        ("ReturnRestocked", "refunding", "inventory"),
        ("CreditNoteIssued", "completed", "billing"),
    ]
    assert ret.history[0].reason == "damaged in transit"
    assert "company" in ret.history[1].reason  # damage: the company pays return freight (R8.3)
    assert ret.history[2].reason == "box dented, goods fine"
    assert ret.history[2].at == LATER
