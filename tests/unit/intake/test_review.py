"""Review and approval (issue 8, R2.1-R2.3): rules, tiers, exclusive claims that expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain import review, saga
from services.intake.domain.errors import ClaimedByAnother, TierRequired
from services.intake.domain.screening import Policy
from services.intake.domain.validation import LineRequest
from shared import contracts as c
from tests.unit.intake.builders import AT, CATALOGUE, TODAY


def test_a_clean_order_is_approved_by_rule_and_the_history_says_so(make) -> None:
    order = make.order("approved")
    assert order.status == "approved" and order.approval_tier == ""
    assert "reviewed by rule" in order.history[-1].reason


def test_a_flagged_order_waits_for_a_reviewer_with_why(make) -> None:
    order = make.order("approved", contact_phone="12345")
    assert (order.status, order.saga.hold, order.approval_tier) == ("on_hold", "review", "review")
    assert "invalid_phone" in order.history[-1].reason
    assert any(h.event == "flagged" and "11-digit" in h.reason for h in order.history)
    commands = saga.approve(order, "ops.zhao", "called the customer: number typo", AT, frozenset({"review"}))
    assert order.status == "approved" and [type(x) for x in commands] == [c.ReserveStock]


def test_the_largest_orders_need_a_manager_then_the_general_manager(make) -> None:
    policy = Policy(approval_over=10_000, general_manager_over=20_000)
    order = make.order("approved", policy=policy)  # total 33,500
    assert order.saga.hold == "approval" and order.approval_tier == "general_manager"

    with pytest.raises(TierRequired):
        saga.approve(order, "ops.zhao", "fine", AT, frozenset({"review"}))
    assert saga.approve(order, "manager.wang", "good customer", AT, frozenset({"review", "manager"})) == []
    assert order.status == "on_hold" and order.saga.hold == "general_manager"
    with pytest.raises(TierRequired):
        saga.approve(order, "manager.li", "again", AT, frozenset({"review", "manager"}))
    saga.approve(order, "gm.chen", "approved", AT, saga.TIERS)

    assert order.status == "approved" and order.saga.approved_by == "gm.chen"
    assert [h.by for h in order.history if h.event == "manager_approved"] == ["manager.wang"]


def test_a_claim_is_exclusive_until_it_expires_or_is_released(make) -> None:
    order = make.order("approved", contact_phone="12345")
    assert review.claim(order, "ops.zhao", AT, ttl_s=600)
    assert not review.claim(order, "ops.qian", AT + timedelta(seconds=10), ttl_s=600)
    with pytest.raises(ClaimedByAnother):
        saga.approve(order, "ops.qian", "mine now", AT + timedelta(seconds=10), saga.TIERS)
    with pytest.raises(ClaimedByAnother):
        review.release(order, "ops.qian", AT)

    assert review.claim(order, "ops.qian", AT + timedelta(seconds=601), ttl_s=600)  # expired: taken over
    review.release(order, "ops.qian", AT + timedelta(seconds=602))
    assert review.claimable(order, AT + timedelta(seconds=602))


def test_a_decision_clears_the_claim(make) -> None:
    order = make.order("approved", lines=[LineRequest(sku="LAMP-1", quantity=1, unit_price=1)])
    review.claim(order, "ops.zhao", AT, ttl_s=600)
    saga.approve(order, "ops.zhao", "checked", AT, saga.TIERS)
    assert order.claim_by is None and not review.claimable(order, AT)


def test_an_order_of_a_custom_product_waits_for_a_manager_saying_which_r2_2(make) -> None:
    catalogue = {**CATALOGUE, "SHADE-R": {**CATALOGUE["SHADE-R"], "custom": True}}
    lines = [LineRequest(sku="SHADE-R", quantity=1), LineRequest(sku="SHADE-R", quantity=2, spec="silk")]
    order, _ = saga.place("SO202405000043", make.request(lines=lines), catalogue, customer_name="ACME Co.",
                          policy=Policy(), today=TODAY, at=AT)  # fmt: skip

    # once per SKU, whatever its lines
    assert order.approval_reasons == ["SHADE-R is a custom product: a manager approves (R2.2)"]
    assert (order.approval_tier, order.needs_approval) == ("manager", True)
    saga.on_reply(order, make.credit_reserved(order), at=AT)
    assert (order.status, order.saga.hold) == ("on_hold", "approval")
    assert "SHADE-R is a custom product" in order.history[-1].reason
    with pytest.raises(TierRequired):
        saga.approve(order, "ops.zhao", "fine", AT, frozenset({"review"}))
    assert [type(x) for x in saga.approve(order, "manager.wang", "made to measure", AT, saga.TIERS)] == [
        c.ReserveStock
    ]


def test_an_order_without_custom_products_needs_no_manager_for_them(make) -> None:
    order, _ = make.place()
    assert not any("custom" in reason for reason in order.approval_reasons)
