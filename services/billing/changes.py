"""Billing's step of an order change (issue 8, R7.2 "Change", R4.2 a cancelled line): the order's
credit hold follows its new gross total (R3.1).

``AdjustCredit`` makes the hold of an accepted order its new total ``amount``
(``OrderAccount.adjust``); money already paid counts as it does for a credit check (held is the
total less what was paid). A decrease - or no increase, or terms that hold no credit - is always
accepted: the account is written with its answer staged, the customer's figures follow
(exposure.sync), then the answer is published, like a release. An increase is a credit check of
the difference (exposure.py, 4 and 5): the account enters ``checking`` for the change at a new
``seq``, the customer's document moves the order's mark to the new hold only within its limit (the
limit in the same conditional update, never forced: a person's approval covered the old amount),
and the account records the answer with the reply staged. Refused, the hold stays as it was, at a
new ``seq`` whose mark is written, so a late copy of the increase counts nothing.

Every answer is kept on the account by change id: a redelivered AdjustCredit writes nothing, is
answered again under the same id (shared.aggregates.Again) and brings the customer's figures up to
the account on the way, which repairs a crash between the two writes. A copy that finds its own
change's check running takes it on (a crash after the account's first write, or a racing copy).

While another credit check of the order runs (its reserve, another change's increase) the command
fails with ``CreditCheckRunning`` and the bus retries it: that check settles in a moment and the
change is then decided on its outcome. Refusing instead would answer a passing state as a refused
change, and a redelivery after the check would have to repeat that refusal. An order whose credit
is not a hold - unknown to billing, new, refused, released, refunded or invoiced - is refused with
the reason: the saga sends AdjustCredit only for an accepted order, before it ships.
"""

from __future__ import annotations

from services.billing import exposure
from services.billing.deps import Billing, Then
from services.billing.domain import CHECKING, CreditChange, Mark, OrderAccount
from services.billing.invoicing import records_of
from shared.aggregates import Again, Decision
from shared.contracts import AdjustCredit, CreditAdjusted
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError

__all__ = ["adjust_credit"]


def adjusted(cmd: AdjustCredit, answer: CreditChange) -> CreditAdjusted:
    """The reply that tells the saga the change's answer (the same to every copy of the command)."""
    return CreditAdjusted(
        order_id=cmd.order_id,
        change_id=cmd.change_id,
        amount=answer.amount,
        accepted=answer.accepted,
        exposure=answer.exposure,
        credit_limit=answer.credit_limit,
        reason=answer.reason,
        refunded=answer.refunded,
    )


async def adjust_credit(cmd: AdjustCredit, env: Envelope, billing: Billing) -> None:
    """Make the order's hold its new total ``cmd.amount`` for the change ``cmd.change_id``: a
    decrease at once, an increase within the customer's limit or refused (R7.2, R4.2, R3.1)."""
    found = await billing.customers.mark_of(cmd.customer_id, cmd.order_id)
    others, limit = (found[0].exposure - found[1].exposure, found[0].credit_limit) if found else (0, 0)

    def begin(account: OrderAccount) -> Decision:
        known = account.changes.get(cmd.change_id)
        if known is not None:
            return Again([adjusted(cmd, known)])
        answer = account.adjust(cmd.change_id, cmd.customer_id, cmd.amount, others, limit, at=utcnow())
        return [] if answer is None else [adjusted(cmd, answer)]  # None: an increase to check

    began = await billing.update_account(cmd.order_id, begin, env, then=_follow(billing, cmd.change_id))
    if began is None:
        reason = f"billing holds no credit for order {cmd.order_id}: its credit check has not run"
        refusal = CreditChange(False, cmd.amount, others, limit, reason)
        await billing.accounts.publish(billing.answers(env)([adjusted(cmd, refusal)]))
        return
    checking = began.loaded.aggregate
    if checking.state == CHECKING and checking.adjusting == cmd.change_id:
        result = await exposure.check(billing, checking)
        await _settle(billing, cmd, checking, result, env, others, limit)


async def _settle(
    billing: Billing,
    cmd: AdjustCredit,
    checking: OrderAccount,
    result: exposure.CheckResult,
    env: Envelope,
    others: int,
    limit: int,
) -> None:
    """Record the customer's answer to the increase checked at ``checking.seq`` and send it."""
    old_hold = max(0, checking.adjusting_from - checking.paid_total)
    if result.reserved:
        shown, reason = result.exposure, ""
    elif not result.known:
        shown, reason = 0, result.reason(cmd.customer_id)
    else:  # result.exposure is the customer's without this order: it keeps counting the old hold
        shown = result.exposure + old_hold
        reason = (
            f"exposure {shown} + increase {checking.held - old_hold} exceeds credit limit "
            f"{result.credit_limit} of customer {cmd.customer_id}"
        )

    def settle(account: OrderAccount) -> Decision:
        known = account.changes.get(cmd.change_id)
        if known is not None:
            return Again([adjusted(cmd, known)])  # a racing copy settled it
        if account.state == CHECKING and account.adjusting == cmd.change_id and account.seq == checking.seq:
            return [adjusted(cmd, account.settle_adjust(result.reserved, shown, result.credit_limit, reason))]
        if account.state == CHECKING or account.adjusting:
            raise ConcurrencyError(f"order {cmd.order_id} changed while its change was checked; try again")
        # Released or invoiced meanwhile: the change is refused for that state.
        answer = account.adjust(cmd.change_id, cmd.customer_id, cmd.amount, others, limit, at=utcnow())
        if answer is None:
            raise ConcurrencyError(f"order {cmd.order_id} changed while its change was checked; try again")
        return [adjusted(cmd, answer)]

    await billing.update_account(cmd.order_id, settle, env, then=_follow(billing, cmd.change_id))


def _follow(billing: Billing, change_id: str) -> Then:
    """After the account's write (or before a duplicate's answer): the customer's figures follow
    the account - except while a check runs, whose hold moves only within the limit."""

    async def then(account: OrderAccount, before: Mark | None) -> None:
        if account.state != CHECKING:
            await exposure.sync(billing, account, before)
        # Money paid beyond a lower total is owed back (R7.2): finance's refund records, written
        # again (idempotent by refund id) for a duplicate, which repairs a crash between the writes.
        await billing.refunds.add(records_of(account, cause=change_id))

    return then
