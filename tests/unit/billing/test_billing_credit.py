"""Credit limit and exposure of a customer (R3.1, R7.1)."""

from datetime import UTC, datetime

import pytest

from services.billing.domain import Customer, Payment, PaymentConflict, UnknownOrder

AT = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def a_customer(limit: int = 100_000, terms: str = "credit") -> Customer:
    return Customer("C1", "Shanghai Lamp Co., Ltd.", terms, limit)


def test_an_order_within_the_limit_is_held_and_counts_as_exposure():
    customer = a_customer(limit=100_000)

    decision = customer.reserve("SO1", 60_000)

    assert decision.outcome == "reserved"
    assert (decision.amount, decision.exposure) == (60_000, 60_000)
    assert customer.available_credit == 40_000


def test_an_order_that_would_push_exposure_over_the_limit_is_refused_with_a_reason():
    customer = a_customer(limit=100_000)
    customer.reserve("SO1", 60_000)

    decision = customer.reserve("SO2", 50_000)

    assert decision.outcome == "refused"
    assert "exceeds credit limit 100000" in decision.reason
    assert (decision.amount, decision.exposure, decision.credit_limit) == (50_000, 60_000, 100_000)
    assert customer.exposure == 60_000


def test_exposure_exactly_at_the_limit_is_allowed():
    customer = a_customer(limit=100_000)

    assert customer.reserve("SO1", 100_000).outcome == "reserved"


def test_a_persons_approval_forces_the_hold_over_the_limit():
    customer = a_customer(limit=10_000)
    assert customer.reserve("SO1", 50_000).outcome == "refused"

    decision = customer.reserve("SO1", 50_000, force=True)

    assert decision.outcome == "reserved"
    assert customer.exposure == 50_000
    assert customer.orders["SO1"].forced


def test_prepaid_customers_skip_the_check_and_hold_nothing():
    customer = a_customer(limit=0, terms="prepaid")

    decision = customer.reserve("SO1", 900_000)

    assert decision.outcome == "skipped"
    assert customer.exposure == 0


def test_a_duplicate_reservation_holds_once():
    customer = a_customer()
    customer.reserve("SO1", 30_000)

    again = customer.reserve("SO1", 30_000)

    assert (again.outcome, again.amount) == ("reserved", 30_000)
    assert customer.exposure == 30_000


def test_release_gives_back_exactly_what_was_held_and_repeats_the_same_amount():
    customer = a_customer()
    customer.reserve("SO1", 30_000)

    assert customer.release("SO1") == 30_000
    assert customer.release("SO1") == 30_000
    assert customer.exposure == 0


def test_a_reservation_arriving_after_its_release_does_nothing():
    customer = a_customer()

    assert customer.release("SO1") == 0
    decision = customer.reserve("SO1", 30_000)

    assert decision.outcome == "ignored"
    assert customer.exposure == 0


def test_invoicing_moves_the_hold_into_receivables_without_changing_exposure():
    customer = a_customer()
    customer.reserve("SO1", 30_000)

    assert customer.invoice("SO1", "INV202405001", 30_000)
    assert not customer.invoice("SO1", "INV202405001", 30_000)

    entry = customer.orders["SO1"]
    assert (entry.held, entry.receivable, customer.exposure) == (0, 30_000, 30_000)
    assert customer.release("SO1") == 0, "an invoiced order is reversed by a credit note, not a release"


def test_a_payment_after_invoicing_reduces_the_receivable_and_is_recorded_once():
    customer = a_customer()
    customer.reserve("SO1", 30_000)
    customer.invoice("SO1", "INV1", 30_000)
    payment = Payment("BANK-1", "SO1", 10_000, AT)

    assert customer.record_payment(payment)
    assert not customer.record_payment(payment)

    assert customer.exposure == 20_000


def test_a_deposit_before_invoicing_lowers_the_hold_and_is_deducted_from_the_receivable():
    customer = a_customer()
    customer.reserve("SO1", 30_000)
    customer.record_payment(Payment("DEP-1", "SO1", 9_000, AT))
    assert customer.exposure == 21_000

    customer.invoice("SO1", "INV1", 30_000)

    assert customer.paid_for("SO1") == 9_000
    assert customer.exposure == 21_000


def test_a_prepayment_lets_a_refused_order_fit_under_the_limit():
    customer = a_customer(limit=10_000)
    assert customer.reserve("SO1", 25_000).outcome == "refused"
    customer.record_payment(Payment("PRE-1", "SO1", 15_000, AT))

    decision = customer.reserve("SO1", 25_000)

    assert (decision.outcome, decision.amount, customer.exposure) == ("reserved", 10_000, 10_000)


def test_reusing_a_payment_reference_for_another_amount_is_a_conflict():
    customer = a_customer()
    customer.reserve("SO1", 30_000)
    customer.record_payment(Payment("BANK-1", "SO1", 10_000, AT))

    with pytest.raises(PaymentConflict):
        customer.record_payment(Payment("BANK-1", "SO1", 11_000, AT))


def test_a_payment_for_an_order_without_credit_entry_is_refused():
    with pytest.raises(UnknownOrder):
        a_customer().record_payment(Payment("BANK-1", "SO404", 1, AT))


def test_a_credit_note_reduces_exposure_once_per_return():
    customer = a_customer()
    customer.reserve("SO1", 30_000)
    customer.invoice("SO1", "INV1", 30_000)

    assert customer.credit("SO1", "RT1", 12_000)
    assert not customer.credit("SO1", "RT1", 12_000)

    assert customer.exposure == 18_000
