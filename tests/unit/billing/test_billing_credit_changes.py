"""An order change on the order's account (issue 8, R7.2, R4.2, R3.1): the hold becomes the new
total - a decrease at once, an increase as a check of the difference - each change answered once."""

from datetime import UTC, datetime

import pytest

from services.billing.domain import (
    CHECKING,
    HELD,
    INVOICED,
    SKIPPED,
    CreditChange,
    CreditCheckRunning,
    Mark,
    OrderAccount,
    Payment,
)

AT = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
OTHERS, LIMIT = 40_000, 100_000  # the customer's exposure without this order, and its limit


def held(total: int = 30_000, forced: bool = False) -> OrderAccount:
    account = OrderAccount("SO1", "C1", payment_terms="credit", total=total)
    account.start_check(total, force=forced)
    account.settle_check(True, exposure=total, limit=LIMIT)
    return account


def test_a_decrease_is_applied_at_once_moving_the_mark_and_is_remembered():
    account = held(30_000)
    seq = account.seq

    answer = account.adjust("CH1", "C1", 20_000, OTHERS, LIMIT, at=AT)

    assert answer == CreditChange(True, 20_000, OTHERS + 20_000, LIMIT)
    assert (account.state, account.total, account.requested) == (HELD, 20_000, 20_000)
    assert account.mark() == Mark(20_000, 0, seq + 1)
    assert account.changes == {"CH1": answer}


def test_a_change_to_the_same_total_is_accepted_without_moving_the_mark():
    account = held(30_000)
    before = account.mark()

    assert account.adjust("CH1", "C1", 30_000, OTHERS, LIMIT, at=AT).accepted  # type: ignore[union-attr]
    assert account.mark() == before


def test_an_increase_is_checked_the_account_holds_the_new_total_at_a_new_seq_until_settled():
    account = held(30_000)
    seq = account.seq

    assert account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT) is None

    assert (account.state, account.adjusting, account.adjusting_from) == (CHECKING, "CH1", 30_000)
    assert account.mark() == Mark(45_000, 0, seq + 1) and account.total == 30_000
    assert account.changes == {}
    assert account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT) is None, "a copy takes the check on"


def test_an_increase_held_by_the_customer_makes_the_new_total_the_hold():
    account = held(30_000)
    account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT)
    mark = account.mark()

    answer = account.settle_adjust(True, exposure=OTHERS + 45_000, limit=LIMIT)

    assert answer == CreditChange(True, 45_000, OTHERS + 45_000, LIMIT)
    assert (account.state, account.total, account.adjusting) == (HELD, 45_000, "")
    assert account.mark() == mark, "the mark the customer was moved to is the account's"


def test_a_refused_increase_keeps_the_old_hold_at_a_new_seq_so_a_late_copy_cannot_count():
    account = held(30_000)
    account.adjust("CH1", "C1", 80_000, OTHERS, LIMIT, at=AT)
    checked = account.seq

    answer = account.settle_adjust(False, exposure=OTHERS + 30_000, limit=LIMIT, reason="over")

    assert answer == CreditChange(False, 80_000, OTHERS + 30_000, LIMIT, "over")
    assert (account.state, account.total, account.requested) == (HELD, 30_000, 30_000)
    assert account.mark() == Mark(30_000, 0, checked + 1)
    assert account.changes == {"CH1": answer}


def test_money_already_paid_counts_so_an_increase_it_covers_needs_no_check():
    account = held(30_000)
    account.add_payment(Payment("DEP-1", "SO1", 20_000, AT))
    assert account.held == 10_000

    answer = account.adjust("CH1", "C1", 25_000, OTHERS, LIMIT, at=AT)  # the hold is 5,000 now: a decrease

    assert answer is not None and answer.accepted and account.held == 5_000
    assert account.adjust("CH2", "C1", 35_000, OTHERS, LIMIT, at=AT) is None  # 15,000 unpaid: more than held
    assert account.held == 15_000


def test_a_total_lowered_below_what_was_paid_owes_the_excess_back_newest_payment_first():
    account = held(30_000)
    account.add_payment(Payment("DEP-1", "SO1", 10_000, AT))
    account.add_payment(Payment("DEP-2", "SO1", 15_000, AT.replace(hour=11)))

    answer = account.adjust("CH1", "C1", 12_000, OTHERS, LIMIT, at=AT)  # 25,000 paid: 13,000 too much

    assert answer is not None and answer.accepted and answer.refunded == 13_000
    [refund] = account.refunds.values()
    assert (refund.payment_id, refund.amount, refund.cause) == ("DEP-2", -13_000, "CH1")
    assert (account.paid_total, account.held, account.due) == (12_000, 0, 0)
    assert account.changes["CH1"] == answer  # a redelivery is answered with it, not decided again


def test_terms_that_hold_no_credit_record_the_new_total_and_hold_nothing():
    account = OrderAccount("SO1", "C1", payment_terms="prepaid")
    account.skip(30_000, exposure=OTHERS)

    answer = account.adjust("CH1", "C1", 90_000, OTHERS, 0, at=AT)

    assert answer == CreditChange(True, 90_000, OTHERS, 0)
    assert (account.state, account.total, account.requested, account.mark().exposure) == (
        SKIPPED, 90_000, 90_000, 0,
    )  # fmt: skip


def a_released() -> OrderAccount:
    account = held()
    account.release()
    return account


def an_invoiced() -> OrderAccount:
    account = held()
    account.invoice("INV1", 30_000)
    return account


def a_refused() -> OrderAccount:
    account = OrderAccount("SO1", "C1", total=30_000)
    account.start_check(30_000, force=False)
    account.settle_check(False, exposure=90_000, limit=LIMIT, reason="over")
    return account


def a_refunded() -> OrderAccount:
    account = held()
    account.refund_all("order cancelled", AT)
    return account


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: OrderAccount("SO1", "C1"), "holds no credit: its credit check has not run"),
        (a_refused, "credit was refused"),
        (a_released, "credit was released"),
        (an_invoiced, "is invoiced: its credit is a receivable"),
        (a_refunded, "payments were refunded"),
    ],
)
def test_an_order_whose_credit_is_not_a_hold_is_refused_with_its_state_and_nothing_moves(make, words):
    account = make()
    mark, total = account.mark(), account.total

    answer = account.adjust("CH1", "C1", 10_000, OTHERS, LIMIT, at=AT)

    assert answer is not None and not answer.accepted and words in answer.reason
    assert answer.exposure == OTHERS + mark.exposure
    assert (account.mark(), account.total, account.changes) == (mark, total, {"CH1": answer})


def test_a_change_naming_another_customer_is_refused():
    account = held()

    answer = account.adjust("CH1", "C2", 10_000, OTHERS, LIMIT, at=AT)

    assert answer is not None and not answer.accepted and "customer C1's, not C2's" in answer.reason
    assert account.held == 30_000


def test_a_change_waits_for_a_running_credit_check_of_the_order():
    account = OrderAccount("SO1", "C1", total=30_000)
    account.start_check(30_000, force=False)
    held_account = held()
    held_account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT)

    with pytest.raises(CreditCheckRunning):
        account.adjust("CH1", "C1", 10_000, OTHERS, LIMIT, at=AT)
    with pytest.raises(CreditCheckRunning):  # another change's increase is being checked
        held_account.adjust("CH2", "C1", 10_000, OTHERS, LIMIT, at=AT)
    assert account.changes == held_account.changes == {}


def test_a_persons_approval_does_not_force_an_order_changes_increase():
    account = held(150_000, forced=True)  # held over the limit on a person's approval
    assert account.forcing

    account.adjust("CH1", "C1", 160_000, OTHERS, LIMIT, at=AT)

    assert account.forced and not account.forcing, "the approval covered 150,000, not the increase"


def test_a_release_during_an_increases_check_fences_it_and_ends_the_change():
    account = held(30_000)
    account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT)

    assert account.release(checked_hold=30_000) == 30_000

    assert (account.adjusting, account.mark().exposure) == ("", 0)
    answer = account.adjust("CH1", "C1", 45_000, OTHERS, LIMIT, at=AT)  # what the change's settle says then
    assert answer is not None and "released" in answer.reason


def test_an_invoice_after_changes_makes_the_last_accepted_total_the_receivable():
    account = held(30_000)
    account.adjust("CH1", "C1", 20_000, OTHERS, LIMIT, at=AT)

    account.invoice("INV1", 20_000)

    assert (account.state, account.held, account.receivable) == (INVOICED, 0, 20_000)
