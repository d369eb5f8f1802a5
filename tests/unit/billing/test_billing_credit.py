"""One order's account with billing (R3.1, R3.3, R6.2, R7.1): what it holds, owes and refuses."""

from datetime import UTC, datetime, timedelta

import pytest

from services.billing.domain import (
    CHECKING,
    HELD,
    INVOICED,
    REFUSED,
    RELEASED,
    AlreadyInvoiced,
    CreditCheckRunning,
    CurrencyMismatch,
    Customer,
    Mark,
    OrderAccount,
    OrderClosed,
    Overpayment,
    Payment,
    invoice_type_for,
)

AT = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def an_account(total: int = 30_000, currency: str = "CNY") -> OrderAccount:
    return OrderAccount("SO1", "C1", payment_terms="credit", currency=currency, total=total)


def held(total: int = 30_000) -> OrderAccount:
    account = an_account(total)
    account.start_check(total, force=False)
    account.settle_check(True, exposure=total, limit=100_000)
    return account


def paid(account: OrderAccount, amount: int, ref: str = "TT-1", minutes: int = 0) -> Payment:
    payment = Payment(ref, account.order_id, amount, AT + timedelta(minutes=minutes), "CNY", "finance-1")
    assert account.add_payment(payment)
    return payment


def test_a_check_numbers_itself_and_holds_what_is_not_paid_yet():
    account = an_account()

    account.start_check(30_000, force=False)

    assert (account.state, account.mark()) == (CHECKING, Mark(30_000, 0, 1))


def test_a_reserved_check_keeps_its_number_so_the_hold_the_customer_counted_stays_current():
    account = an_account()
    account.start_check(30_000, force=False)

    account.settle_check(True, exposure=30_000, limit=100_000)

    assert (account.state, account.mark(), account.answer) == (HELD, Mark(30_000, 0, 1), "reserved")


def test_a_refused_check_moves_its_number_on_so_a_late_copy_of_the_hold_cannot_count():
    account = an_account()
    account.start_check(30_000, force=False)

    account.settle_check(False, exposure=90_000, limit=100_000, reason="over")

    assert (account.state, account.mark()) == (REFUSED, Mark(0, 0, 2))
    assert (account.answer, account.answer_amount) == ("refused", 30_000)


def test_a_release_gives_back_what_is_held_once_and_closes_the_order_for_payments():
    account = held()

    assert account.release() == 30_000
    assert account.release() == 30_000  # repeated to a duplicate
    assert (account.state, account.mark().exposure, account.closed) == (RELEASED, 0, "released")
    with pytest.raises(OrderClosed, match="credit was released"):
        account.check_payment(100, "CNY")


def test_a_release_of_a_check_in_progress_fences_it_with_a_new_number():
    account = an_account()
    account.start_check(30_000, force=False)

    assert account.release(checked_hold=0) == 0

    assert account.mark() == Mark(0, 0, 2)


def test_invoicing_turns_the_hold_into_a_receivable_of_what_is_unpaid():
    account = held()
    paid(account, 9_000)
    assert account.mark().held == 21_000

    assert account.invoice("INV1", 30_000)
    assert not account.invoice("INV1", 30_000)

    assert (account.state, account.held, account.receivable) == (INVOICED, 0, 21_000)
    assert account.release() == 0, "an invoiced order is reversed by a credit note, not a release"
    with pytest.raises(AlreadyInvoiced):
        account.invoice("INV2", 30_000)


def test_a_payment_lowers_the_receivable_and_counts_once_per_reference():
    account = held()
    account.invoice("INV1", 30_000)
    payment = paid(account, 10_000)

    assert not account.add_payment(payment)

    assert (account.receivable, account.paid_total, account.due) == (20_000, 10_000, 20_000)


def test_a_prepayment_lets_a_refused_order_fit_under_the_limit():
    account = an_account(25_000)
    account.start_check(25_000, force=False)
    account.settle_check(False, exposure=0, limit=10_000)
    paid(account, 15_000)

    account.start_check(25_000, force=False)

    assert account.mark().held == 10_000


@pytest.mark.parametrize(
    ("amount", "currency", "error", "words"),
    [
        (30_001, "CNY", Overpayment, "costs 30000, 0 received so far: 30001 more would be 1 too much"),
        (100, "USD", CurrencyMismatch, "is in CNY, not USD"),
    ],
)
def test_money_the_order_cannot_take_is_refused_with_its_state(amount, currency, error, words):
    account = held()

    with pytest.raises(error, match=words):
        account.add_payment(Payment("TT-9", "SO1", amount, AT, currency))

    assert account.payments == {}


def test_no_payment_is_taken_while_the_credit_check_runs():
    account = an_account()
    account.start_check(30_000, force=False)

    with pytest.raises(CreditCheckRunning):
        account.check_payment(100, "CNY")


def test_refunding_owes_back_every_payment_as_a_new_negative_entry_and_repeats_the_same_answer():
    account = held()
    first, second = paid(account, 9_000, "DEP-1"), paid(account, 6_000, "DEP-2", minutes=5)

    ids, amount, new = account.refund_all("order cancelled", AT)
    again = account.refund_all("order cancelled", AT)

    assert (amount, new, again) == (15_000, True, (ids, 15_000, False))
    assert sorted(r.amount for r in account.refunds.values()) == [-9_000, -6_000]
    assert {r.payment_id for r in account.refunds.values()} == {first.reference, second.reference}
    assert account.payments["DEP-1"].amount == 9_000, "the payment itself is never edited (R6.2)"
    assert (account.paid, account.paid_total, account.closed) == (15_000, 0, "refunded")
    with pytest.raises(OrderClosed, match="refunded"):
        account.check_payment(1, "CNY")


def test_refunding_an_order_nothing_was_paid_for_records_nothing_but_closes_it():
    account = held()

    assert account.refund_all("rejected", AT) == ([], 0, True)
    assert account.closed == "refunded"


def test_a_credit_note_after_full_payment_owes_back_the_excess_against_the_newest_payment():
    account = held()
    account.invoice("INV1", 30_000)
    paid(account, 20_000, "TT-1")
    paid(account, 10_000, "TT-2", minutes=1)

    refunds = account.credit("RT1", 12_000, AT)

    assert [(r.payment_id, r.amount) for r in refunds] == [("TT-2", -10_000), ("TT-1", -2_000)]
    assert (account.receivable, account.paid_total, account.owed) == (0, 18_000, 18_000)
    assert account.credit("RT1", 12_000, AT) == []


def test_a_credit_note_on_an_unpaid_invoice_only_lowers_the_receivable():
    account = held()
    account.invoice("INV1", 30_000)

    assert account.credit("RT1", 12_000, AT) == []
    assert account.receivable == 18_000


def test_the_invoice_type_follows_the_customers_taxpayer_class_and_tax_number():
    general = Customer("C1", "Lamp Co.", "credit", 0, taxpayer="general", tax_number="91310000MA1FL8XQ30")

    assert invoice_type_for(general) == "vat_special"
    assert invoice_type_for(Customer("C2", "Lamp Co.", "credit", 0, taxpayer="general")) == "vat_ordinary"
    assert invoice_type_for(Customer("C3", "Shop", "credit", 0, tax_number="X1")) == "vat_ordinary"
    assert invoice_type_for(general, special_for="small_scale") == "vat_ordinary"
    assert invoice_type_for(None) == "vat_ordinary"


def test_refunds_wait_for_a_running_credit_check_to_settle():
    account = an_account()
    account.start_check(30_000, force=False)

    with pytest.raises(CreditCheckRunning):
        account.refund_all("cancelled", AT)
