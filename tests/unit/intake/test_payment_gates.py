"""Payment terms in the order saga (issue 5, R3.2, R3.3, R7.1): each term's gates, the wait for
money with its reminders and expiry, finance's letter-of-credit check, refunds on cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain import payment, saga
from services.intake.domain.errors import OrderInvalid
from services.intake.domain.screening import Policy
from shared import contracts as c
from shared.terms import PAYMENT_TERMS, TERMS, gate_amount, gates_before, normalise, share
from tests.unit.intake.builders import AT, new_id


def pay(order, amount: int, paid_total: int | None = None, payment_id: str | None = None) -> list[c.Command]:
    total = order.payments.paid + amount if paid_total is None else paid_total
    event = c.PaymentReceived(order_id=order.order_id, payment_id=payment_id or new_id(), amount=amount,
                              paid_total=total, by="finance.zhou")  # fmt: skip
    return saga.on_reply(order, event, message_id=new_id(), at=AT)


def reply(order, event) -> list[c.Command]:
    return saga.on_reply(order, event, message_id=new_id(), at=AT)


def kinds(commands) -> list[str]:
    return [type(cmd).__name__ for cmd in commands]


def approved(make, terms: str, policy: Policy | None = None, **kw):
    # Prepaid orders wait for a manager first (R2.2); these tests start after that.
    policy = policy or Policy(sign_off_terms=("monthly",))
    order = make.order("approved", payment_terms=terms, policy=policy, **kw)
    assert order.status == "approved" and order.payment_terms == terms
    return order


# --- the vocabulary (shared.terms) ------------------------------------------------------------


def test_every_term_is_data_and_the_old_words_still_mean_a_term() -> None:
    assert set(TERMS) == set(PAYMENT_TERMS) == {"prepaid", "deposit", "tt", "lc", "monthly", "credit"}
    assert normalise("T/T") == "tt" and normalise("L/C") == "lc" and normalise(" Prepaid ") == "prepaid"
    assert normalise("L/C at sight") is None  # the free text: refused, never ignored


def test_a_deposit_share_rounds_up_to_the_fen() -> None:
    deposit = TERMS["deposit"].gates[0]
    assert gate_amount(deposit, 10_001, deposit_percent=30) == 3_001  # 3000.3 -> 3001, never less
    assert share(24_000, 3_000) == 7_200
    assert [g.name for g in gates_before("deposit", "supply")] == ["deposit"]
    assert [g.name for g in gates_before("deposit", "shipping")] == ["deposit", "balance"]
    assert gates_before("credit", "shipping") == ()


def test_an_unknown_term_on_the_order_is_a_field_error(make) -> None:
    with pytest.raises(OrderInvalid) as refused:
        make.place(payment_terms="L/C at sight")
    assert "payment_terms" in refused.value.fields


def test_monthly_terms_wait_for_a_manager_after_the_credit_check(make) -> None:
    order = make.order("approved", payment_terms="monthly")
    assert order.status == "on_hold" and order.saga.hold == "approval"
    assert "monthly terms" in order.history[-1].reason


def test_credit_terms_have_no_gate(make) -> None:
    order = approved(make, "credit")
    assert kinds(reply(order, make.stock_reserved(order))) == ["CreateShipment"]
    assert order.status == "ready_to_ship"


# --- prepaid: nothing leaves before the money (R3.3) ---------------------------------------------


def test_prepaid_waits_before_shipping_with_what_is_due_and_ships_when_paid(make) -> None:
    order = approved(make, "prepaid")

    assert reply(order, make.stock_reserved(order)) == []
    assert order.status == "awaiting_payment"
    assert (order.payments.gate, order.payments.point, order.payments.due) == (
        "payment",
        "shipping",
        order.total,
    )
    assert order.payments.expires_at == order.payments.since + timedelta(hours=72)
    assert order.saga.steps["stock"] == "done"  # the paying customer keeps the stock

    assert pay(order, order.total - 1) == []  # a fen short: still waiting
    assert order.status == "awaiting_payment" and order.amount_due == 1
    assert kinds(pay(order, 1)) == ["CreateShipment"]
    assert order.status == "ready_to_ship" and order.amount_due == 0
    assert order.payments.passed == ["payment"]
    received = [h for h in order.history if h.event == "PaymentReceived"]
    assert len(received) == 2 and received[0].by == "finance.zhou"


def test_a_prepaid_order_paid_before_its_stock_is_reserved_does_not_wait(make) -> None:
    order = approved(make, "prepaid")
    pay(order, order.total)
    assert kinds(reply(order, make.stock_reserved(order))) == ["CreateShipment"]


def test_a_payment_delivered_twice_counts_once(make) -> None:
    order = approved(make, "prepaid")
    reply(order, make.stock_reserved(order))
    event = c.PaymentReceived(order_id=order.order_id, payment_id="PAY-1", amount=100, paid_total=100)

    reply(order, event)
    assert saga.on_reply(order, event, message_id=new_id(), at=AT) == []  # same payment, new envelope
    assert order.payments.paid == 100 and list(order.payments.received) == ["PAY-1"]


# --- deposit: before production, then the balance before shipping (R3.2) -------------------------


def test_deposit_gates_supply_then_the_balance_gates_shipping(make) -> None:
    order = approved(make, "deposit")
    deposit = share(order.total, 3_000)

    assert reply(order, make.stock_short(order)) == []
    assert order.status == "awaiting_payment" and order.payments.point == "supply"
    assert order.payments.due == deposit

    commands = pay(order, deposit)
    assert kinds(commands) == ["RaiseSupply"] and order.status == "awaiting_stock"
    assert commands[0].shortages[0].sku == "LAMP-1"  # the shortage that waited for the deposit

    assert reply(order, make.stock_reserved(order)) == []  # supply arrived: now the balance
    assert order.status == "awaiting_payment" and order.payments.gate == "balance"
    assert order.payments.due == order.total and order.amount_due == order.total - deposit
    assert kinds(pay(order, order.total - deposit)) == ["CreateShipment"]
    assert order.payments.passed == ["deposit", "balance"]


def test_a_deposit_order_in_stock_waits_for_the_deposit_then_the_balance(make) -> None:
    order = approved(make, "deposit")
    reply(order, make.stock_reserved(order))
    assert order.payments.gate == "deposit"
    pay(order, share(order.total, 3_000))
    assert order.status == "awaiting_payment" and order.payments.gate == "balance"
    since = order.payments.since
    assert pay(order, 1) == [] and order.payments.since == since  # the same wait goes on


def test_the_deposit_share_is_the_setting_kept_with_the_order(make) -> None:
    order = approved(make, "tt", policy=Policy(deposit_percent=50, sign_off_terms=()))
    reply(order, make.stock_short(order))
    assert order.payments.due == share(order.total, 5_000)


# --- L/C: finance checks before production (R3.2) ---------------------------------------------


def test_lc_waits_for_finance_and_a_check_lets_it_go_on(make) -> None:
    order = approved(make, "lc")
    reply(order, make.stock_short(order))
    assert order.status == "awaiting_payment" and order.payments.gate == "lc_check"

    assert kinds(saga.check_payment(order, "finance.zhou", "L/C 88123 confirmed by BoC", AT)) == [
        "RaiseSupply"
    ]
    assert order.status == "awaiting_stock" and order.payments.checked_by == "finance.zhou"
    assert kinds(reply(order, make.stock_reserved(order))) == ["CreateShipment"]  # checked once


def test_an_lc_order_in_stock_is_checked_before_it_ships(make) -> None:
    order = approved(make, "lc")
    reply(order, make.stock_reserved(order))
    assert order.status == "awaiting_payment" and order.payments.point == "shipping"
    assert kinds(saga.check_payment(order, "finance.zhou", "L/C confirmed", AT)) == ["CreateShipment"]


# --- waiting: reminders and expiry (timers) ----------------------------------------------------


def deadline(order, purpose: str, at) -> c.DeadlinePassed:
    return c.DeadlinePassed(order_id=order.order_id, timer=purpose, due_at=at.isoformat())


def test_the_wait_sets_reminders_and_an_expiry_and_each_reminder_is_recorded_once(make) -> None:
    order = approved(make, "prepaid")
    reply(order, make.stock_reserved(order))
    timers = payment.timers(order)
    assert [purpose for _, _, purpose in timers] == ["payment_reminder", "payment_reminder", "payment"]
    assert len({key for key, _, _ in timers}) == 3

    _, first, _ = timers[0]
    saga.on_deadline(order, deadline(order, "payment_reminder", first), AT)
    saga.on_deadline(order, deadline(order, "payment_reminder", first), AT)  # fired again: once
    assert [h.event for h in order.history].count("payment_reminder") == 1
    assert order.status == "awaiting_payment"


def test_unpaid_by_the_deadline_the_order_is_cancelled_with_its_compensations(make) -> None:
    order = approved(make, "prepaid")
    reply(order, make.stock_reserved(order))
    expires = order.payments.expires_at

    assert saga.on_deadline(order, deadline(order, "payment", expires - timedelta(hours=1)), AT) == []
    commands = saga.on_deadline(order, deadline(order, "payment", expires), AT)

    assert kinds(commands) == ["ReleaseStock"] and order.status == "cancelling"
    assert "not paid by" in order.saga.end_reason
    while commands:
        commands = reply(order, make.compensation_reply(commands[0]))
    assert order.status == "cancelled"


def test_a_deadline_of_a_wait_that_ended_does_nothing(make) -> None:
    order = approved(make, "prepaid")
    reply(order, make.stock_reserved(order))
    expires = order.payments.expires_at
    pay(order, order.total)
    assert saga.on_deadline(order, deadline(order, "payment", expires), AT) == []
    assert order.status == "ready_to_ship"


# --- refunds (R7.1, R6.2) -----------------------------------------------------------------------


def test_cancelling_after_a_deposit_refunds_it_after_the_booking_and_before_the_stock(make) -> None:
    order = approved(make, "deposit")
    reply(order, make.stock_short(order))
    pay(order, share(order.total, 3_000))  # supply raised

    sent = []
    commands = saga.cancel(order, "customer", "changed my mind", AT)
    while commands:
        sent.append(type(commands[0]))
        commands = reply(order, make.compensation_reply(commands[0]))

    assert sent == [c.RefundPayments, c.CancelSupply, c.ReleaseStock, c.ReleaseCredit]
    assert order.status == "cancelled"
    assert order.payments.refunded == 100 and order.payments.refund_ids == ["RF-1"]


def test_money_after_the_cancellation_ended_is_refunded_on_its_own(make) -> None:
    order = approved(make, "credit")
    commands = saga.cancel(order, "customer", "no longer needed", AT)
    while commands:
        commands = reply(order, make.compensation_reply(commands[0]))
    assert order.status == "cancelled"

    commands = pay(order, 500)
    assert kinds(commands) == ["RefundPayments"] and order.status == "cancelled"
    reply(order, make.compensation_reply(commands[0]))
    assert order.saga.steps["payment"] == "compensated"
    assert pay(order, 0, payment_id=next(iter(order.payments.received))) == []  # that payment again


def test_prepaid_and_monthly_terms_wait_for_a_manager_by_default(make) -> None:
    for terms in ("prepaid", "monthly"):
        order = make.order("approved", payment_terms=terms)
        assert order.status == "on_hold" and order.approval_tier == "manager"
        assert f"{terms} terms: a manager signs off" in order.history[-1].reason
