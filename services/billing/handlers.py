"""Billing use cases for credit (R3.1, R3.2, R7.1) and customers.

A credit check is two writes of the order's account around one conditional update of its
customer (exposure.py): the account enters ``checking``, the customer's document holds the credit
within its limit or not, the account records the answer with the reply staged, and the reply is
published. A release writes the account (its reply staged), moves the customer's figures, then
publishes. A duplicate writes nothing and is answered again under the same id (shared.aggregates).
Invoicing lives in ``invoicing.py``, money in ``payments.py``, an order change's credit in
``changes.py``; all share ``Billing`` (deps.py).
"""

from __future__ import annotations

import logging

from pymongo.errors import DuplicateKeyError

from services.billing import exposure
from services.billing.deps import Billing, Then
from services.billing.domain import (
    CHECKING,
    HELD,
    INVOICED,
    REFUSED,
    RELEASED,
    SKIPPED,
    Customer,
    Mark,
    OrderAccount,
    invoice_type_for,
)
from shared.aggregates import Again, Decision
from shared.contracts import (
    CreditLimitExceeded,
    CreditReleased,
    CreditReserved,
    Message,
    OrderConfirmed,
    ReleaseCredit,
    ReserveCredit,
)
from shared.envelope import Envelope, utcnow
from shared.terms import TERMS, normalise

log = logging.getLogger(__name__)
__all__ = ["Billing", "put_customer", "release_credit", "reserve_credit"]


def answer(account: OrderAccount) -> Message:
    """The credit answer the account gave (what a duplicate is told again)."""
    if account.answer == "refused":
        return CreditLimitExceeded(
            order_id=account.order_id,
            customer_id=account.customer_id or "",
            amount=account.answer_amount,
            exposure=account.answer_exposure,
            credit_limit=account.answer_limit,
            reason=account.answer_reason,
        )
    return CreditReserved(
        order_id=account.order_id,
        customer_id=account.customer_id or "",
        amount=account.answer_amount,
        exposure=account.answer_exposure,
        skipped=account.answer == "skipped",
    )


def holds_credit(term: str) -> bool:
    rule = TERMS.get(term)
    return rule.holds_credit if rule is not None else True


async def reserve_credit(cmd: ReserveCredit, env: Envelope, billing: Billing) -> None:
    """Hold credit for the order or refuse it over the limit (R3.1); terms that hold no credit
    (prepaid, shared.terms) skip the check (R3.3); nothing after a release (a tombstone)."""
    found = await billing.customers.mark_of(cmd.customer_id, cmd.order_id)
    if found is not None and await _open(billing, cmd, env, found):
        return  # a new order: its account was opened checking (or skipped), one read and one insert
    loaded = await billing.accounts.load(cmd.order_id)
    if loaded is None:
        reason = f"customer {cmd.customer_id} is unknown to billing: PUT /customers/{{id}} first"
        refusal = CreditLimitExceeded(
            order_id=cmd.order_id, customer_id=cmd.customer_id, amount=cmd.amount, exposure=0, credit_limit=0,
            reason=reason,
        )  # fmt: skip
        await billing.customers.publish(billing.answers(env)([refusal]))
        return
    if loaded.aggregate.state == REFUSED and not cmd.force and await _still_over(billing, loaded.aggregate):
        await billing.accounts.publish(billing.answers(env)([answer(loaded.aggregate)]))
        return

    def begin(account: OrderAccount) -> Decision:
        if account.state == RELEASED or account.customer_id is None:
            return []  # the saga compensated this step before the command arrived; it expects no reply
        if account.state in (HELD, SKIPPED, INVOICED) or account.adjusting:
            return Again([answer(account)])  # answered before (an order change may be checked now)
        if account.state == CHECKING:
            return []  # a copy (or a crash) left the check running: take it on
        account.start_check(cmd.amount, cmd.force)
        return []

    began = await billing.update_account(cmd.order_id, begin, env)
    checking = began.loaded.aggregate if began is not None else None
    if checking is not None and checking.state == CHECKING and not checking.adjusting:
        await _settle(billing, checking, await exposure.check(billing, checking), env)


async def _open(billing: Billing, cmd: ReserveCredit, env: Envelope, found: tuple[Customer, Mark]) -> bool:
    """Open the account of an order billing has not seen: False when it has one already."""
    customer, _ = found
    term = normalise(cmd.payment_terms) or customer.payment_terms  # the order's term, else the customer's
    account = OrderAccount(
        cmd.order_id, cmd.customer_id, payment_terms=term, currency=cmd.currency, total=cmd.amount
    )
    if holds_credit(term):
        account.start_check(cmd.amount, cmd.force)
    else:
        account.skip(cmd.amount, customer.exposure)
    replies = [] if account.state == CHECKING else billing.answers(env)([answer(account)])
    try:
        saved = await billing.accounts.add(account, replies)
    except DuplicateKeyError:
        return False  # a known order (a duplicate, an approval, a release that came first)
    if replies:
        await billing.accounts.flush(saved)
    else:
        await _settle(billing, account, await exposure.check(billing, account, found), env)
    return True


async def _settle(
    billing: Billing, checking: OrderAccount, result: exposure.CheckResult, env: Envelope
) -> None:
    """Record the customer's answer to the check started at ``checking.seq`` and send it."""

    def settle(account: OrderAccount) -> Decision:
        if account.state != CHECKING or account.seq != checking.seq or account.adjusting:
            answered = account.state in (HELD, SKIPPED, INVOICED, REFUSED) or account.adjusting
            return Again([answer(account)]) if answered else []
        reason = "" if result.reserved else result.reason(account.customer_id or "")
        account.settle_check(result.reserved, result.exposure, result.credit_limit, reason)
        return [answer(account)]

    await billing.update_account(checking.order_id, settle, env, then=_fence_refusal(billing))


def _fence_refusal(billing: Billing) -> Then:
    async def then(account: OrderAccount, before: object) -> None:
        if account.state == REFUSED:
            await exposure.sync(billing, account)  # the refusal's seq, against a late copy of the hold

    return then


async def _still_over(billing: Billing, account: OrderAccount) -> bool:
    """Whether a repeated check of a refused order would be refused again (nothing then written)."""
    found = await billing.customers.mark_of(account.customer_id or "", account.order_id)
    if found is None:
        return True
    customer, mark = found
    if mark.seq < account.seq:  # a crash before the refusal's mark was written: write it now
        await exposure.sync(billing, account, mark)
    needed = max(0, account.requested - account.paid_total)
    return customer.exposure - mark.exposure + needed > customer.credit_limit


async def release_credit(cmd: ReleaseCredit, env: Envelope, billing: Billing) -> None:
    """Give back what was held for the order (R7.1), take no more payments for it, and leave a
    tombstone against a late reserve."""
    loaded = await billing.accounts.load_cached(cmd.order_id)
    if loaded is None:
        tombstone = OrderAccount(cmd.order_id, None, state=RELEASED, closed="released")
        try:  # nothing was ever held: say so, so the saga's compensation completes
            saved = await billing.accounts.add(
                tombstone, billing.answers(env)([CreditReleased(order_id=cmd.order_id, amount=0)])
            )
            await billing.accounts.flush(saved)
            return
        except DuplicateKeyError:
            loaded = await billing.accounts.load(cmd.order_id)  # the reserve came first after all
    seen = loaded.aggregate if loaded else None
    checked = await exposure.checked_hold(billing, seen) if seen and seen.state == CHECKING else None

    def release(account: OrderAccount) -> Decision:
        changes = account.releasing_changes()  # False for a duplicate, or invoiced meanwhile
        same_check = seen is not None and account.seq == seen.seq
        reply = CreditReleased(order_id=cmd.order_id, amount=account.release(checked if same_check else None))
        return [reply] if changes else Again([reply])

    await billing.update_account(cmd.order_id, release, env, then=lambda a, b: exposure.sync(billing, a, b))


async def put_customer(
    billing: Billing,
    customer_id: str,
    name: str,
    terms: str,
    limit: int,
    taxpayer: str | None = None,
    tax_number: str | None = None,
) -> tuple[Customer, bool]:
    """Create or update a customer's terms, limit and tax identity; True when it was created.
    A PUT that changes nothing writes nothing."""
    existing = await billing.customers.get(customer_id)
    if existing is None:
        customer = Customer(customer_id, name, terms, limit, taxpayer or "small_scale", tax_number or "")
        try:
            await billing.customers.add(customer)
            return customer, True
        except DuplicateKeyError:  # a concurrent PUT created it first: update that one
            existing = await billing.customers.get(customer_id)
            assert existing is not None  # customers are never deleted
    before = existing.terms()
    existing.update_terms(name, terms, limit, taxpayer, tax_number)
    if existing.terms() == before:
        return existing, False
    return await billing.customers.set_terms(existing), False


async def note_confirmed_order(msg: OrderConfirmed, env: Envelope, billing: Billing) -> None:
    """Finance is told of an accepted order (R2.5): amount, payment terms and the invoice type it
    will get (R6.1); kept once per order."""
    customer = await billing.customers.get(msg.customer_id)
    kind = invoice_type_for(customer, billing.settings.special_invoice_taxpayer)
    body = {"customer_id": msg.customer_id, "amount": msg.amount, "currency": msg.currency,
            "payment_terms": msg.payment_terms or (customer.payment_terms if customer else ""),
            "invoice_type": kind}  # fmt: skip
    await billing.notices.record("finance", msg.order_id, body, utcnow())
