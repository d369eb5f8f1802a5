"""A customer's exposure over per-order documents, without multi-document transactions (issue 5,
R3.1; docs/ARCHITECTURE.md "Billing's documents").

Why the figures stay exact under concurrency and redelivery, with single-document atomicity only:

1. Each order's account (its own document, domain/account.py) is the truth about what the order
   should count against its customer's limit (``mark()``: held, receivable) and numbers every
   change of that (``seq``).
2. The customer's document keeps running totals and, per order, the mark they count
   (``marks.<order>: {h, r, s}``). The totals change only by one ``find_one_and_update`` that
   replaces an order's mark if it is still the one read (matched by ``s``) and ``$inc``s the totals
   by the difference. Every such update keeps "totals = sum of the marks", in any interleaving.
3. Marks only move forward: a writer brings the mark to the account's ``seq`` and stops when it
   finds the mark there or beyond. A redelivered command, a racing copy, a retried request or a
   replica that lost a race repeats nothing: the totals are idempotent per order by ``seq``, not
   per message, so no list of processed messages grows anywhere.
4. The credit check is the one update with a condition on the totals: the limit read and
   ``exposure <= limit - increase`` are in the same filter. Two concurrent orders of one customer
   whose sum does not fit are applied by the server one after the other on one document; the
   second one's filter sees the first one's exposure and matches nothing: it is refused. There is
   no read-then-write window, and no lock is needed (other orders' updates do not conflict).
5. A check starts on the account (state ``checking``, a new ``seq``) before the customer is asked,
   and only that ``seq``'s outcome settles it. Whatever leaves ``checking`` otherwise (a release
   overtaking its reserve, a refusal) moves ``seq`` on and writes the mark at the new ``seq``, so a
   late copy of the hold, which expects the mark it read before, matches nothing.
   An order change's increase (AdjustCredit, changes.py) is such a check of the order's new hold:
   the customer is moved from the old hold's mark by the difference, within the limit, never
   forced; refused, the account keeps its old hold at a new ``seq`` and writes that mark.
6. A crash between the account's write and the customer's leaves the account right and the command
   unacknowledged (an HTTP payment: unanswered); its redelivery (or the client's retry with the same
   reference) finds the mark behind the account and moves it. Until then only that order's figures
   lag in the customer's totals. A reply staged on the account may be published by the relay
   before that; it names the order's own figures, which are right.

Cost: one small update of the customer per change of an order's figures, reads without the marks
(a projection), so the work per order no longer grows with a customer's open orders (the "Known
limit" of issue 6). A mark is three integers and stays (records are never deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.billing.deps import Billing
from services.billing.domain import CHECKING, Customer, Mark, OrderAccount
from shared.errors import ConcurrencyError


@dataclass(frozen=True)
class CheckResult:
    """What the customer's document said to an order's credit check."""

    reserved: bool
    exposure: int  # after the hold, or as seen when refusing
    credit_limit: int
    needed: int
    known: bool = True  # False: billing does not know the customer

    def reason(self, customer_id: str) -> str:
        if not self.known:
            return f"customer {customer_id} is unknown to billing: PUT /customers/{{id}} first"
        return (
            f"exposure {self.exposure} + order {self.needed} exceeds credit limit {self.credit_limit} "
            f"of customer {customer_id}"
        )


async def check(
    billing: Billing, account: OrderAccount, read: tuple[Customer, Mark] | None = None
) -> CheckResult:
    """Hold the account's check on its customer within the limit (unless forced): see 4 and 5.
    ``read``: the customer and mark as just read (the first attempt then reads nothing)."""
    assert account.state == CHECKING and account.customer_id is not None
    target = account.mark()
    for _ in range(billing.settings.write_attempts):
        found, read = read or await billing.customers.mark_of(account.customer_id, account.order_id), None
        if found is None:
            return CheckResult(False, 0, 0, target.held, known=False)
        customer, mark = found
        if mark.seq >= target.seq:  # an earlier copy held it (or the order moved on: its writer knows)
            return CheckResult(True, customer.exposure, customer.credit_limit, mark.held)
        increase = target.exposure - mark.exposure
        over = customer.exposure + increase > customer.credit_limit
        if not account.forcing and increase > 0 and over:
            return CheckResult(False, customer.exposure - mark.exposure, customer.credit_limit, target.held)
        within = None if account.forcing or increase <= 0 else customer.credit_limit
        moved = await billing.customers.move(account.customer_id, account.order_id, mark, target, within)
        if moved is not None:
            return CheckResult(True, moved.exposure, moved.credit_limit, target.held)
        # The mark, the limit or the exposure moved since the read: decide again on a fresh one.
    raise ConcurrencyError(f"customer {account.customer_id} kept changing; try again")


async def sync(billing: Billing, account: OrderAccount, before: Mark | None = None) -> None:
    """Bring the customer's mark of this order up to the account (3): first on the guess that it is
    still ``before`` (the account's mark before its change: one read less), else on a fresh read.
    ``before`` None (a duplicate, a repair) always reads: a crash may have left the mark behind."""
    target = account.mark()
    if account.customer_id is None or (before is not None and before.seq >= target.seq):
        return  # no customer; or this change did not move the mark (its mover brought it over)
    guess = before
    for _ in range(billing.settings.write_attempts):
        if guess is not None:
            if await billing.customers.move(account.customer_id, account.order_id, guess, target) is not None:
                return
        found = await billing.customers.mark_of(account.customer_id, account.order_id)
        if found is None or found[1].seq >= target.seq:
            return  # a customer billing does not know counts nothing; or it is up to date
        guess = found[1]
    raise ConcurrencyError(f"customer {account.customer_id} kept changing; try again")


async def checked_hold(billing: Billing, account: OrderAccount) -> int:
    """What the customer's document holds for an order whose check is in progress: the check's
    hold once it landed, else what it held before (0 for a new order, the old hold for an order
    change's increase) - what a release gives back."""
    if account.customer_id is None:
        return 0
    found = await billing.customers.mark_of(account.customer_id, account.order_id)
    return found[1].held if found is not None else 0
