"""Money received and given back (R3.3, R7.1, R6.2): payments, refunds, refunds paid out.

A payment is recorded on its order's account, once per reference, with ``PaymentReceived``
staged in the same write (the outbox); the customer's figures follow (exposure.sync) before it is
published. A reference is unique over every order (the payment store claims it first), so one bank
slip never pays two orders. What a payment may not do is refused before its reference is claimed,
each with its own code (domain/errors.py); a refusal found only at the write frees the reference.

``RefundPayments`` (the saga's compensation of money received) owes back every payment not yet
refunded, as new negative entries on the account, and closes the order for payments; its reply
``PaymentsRefunded`` names the entries and is repeated, under the same id, to a duplicate.
Finance pays refunds out by hand and records it (``pay_out``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.billing import exposure
from services.billing.deps import Billing
from services.billing.domain import (
    BillingError,
    Mark,
    OrderAccount,
    Payment,
    PaymentConflict,
    RefundRecord,
    UnknownOrder,
    UnknownRefund,
)
from services.billing.invoicing import records_of
from shared.aggregates import Again, Decision
from shared.contracts import PaymentReceived, PaymentsRefunded, RefundPayments
from shared.envelope import Envelope, utcnow_ms


async def record_payment(
    billing: Billing,
    order_id: str,
    amount: int,
    reference: str,
    currency: str | None = None,
    by: str = "",
    acts_for: Callable[[str], bool] = lambda _customer_id: True,
) -> tuple[Payment, OrderAccount, bool]:
    """Record money received for an order once per reference (R3.3): the payment, the account as
    it is now and whether this call recorded it. An order of a customer the caller does not act
    for is unknown to it (``acts_for``, issue 7)."""
    loaded = await billing.accounts.load(order_id)
    account = loaded.aggregate if loaded else None
    if account is None or account.customer_id is None or not acts_for(account.customer_id):
        raise UnknownOrder(
            f"billing knows no order {order_id}; it appears once its credit check ran",
            {"order_id": "unknown to billing"},
        )
    currency = currency or account.currency
    known = account.payments.get(reference)
    if known is not None:
        _same_or_conflict(known, order_id, amount, currency)
        return known, account, False  # the same payment again: recorded once, announced once
    account.check_payment(amount, currency)  # refused before the reference is claimed
    claimed = await billing.payments.claim(
        Payment(reference, order_id, amount, utcnow_ms(), currency, by), account.customer_id
    )
    _same_or_conflict(claimed, order_id, amount, currency)

    def apply(account: OrderAccount) -> Decision:
        if not account.add_payment(claimed):
            return []  # recorded by a twin request meanwhile
        return [
            PaymentReceived(
                order_id=order_id,
                payment_id=reference,
                amount=amount,
                paid_total=account.paid_total,
                currency=currency,
                by=claimed.by,
            )
        ]

    async def then(account: OrderAccount, before: Mark | None) -> None:
        await exposure.sync(billing, account, before)

    try:
        changed = await billing.update_account(order_id, apply, None, then=then)
    except BillingError:
        await billing.payments.refuse(claimed)  # refused at the write after all: the reference is free
        raise
    assert changed is not None  # accounts are never deleted
    account = changed.loaded.aggregate
    if not changed.written:
        await exposure.sync(billing, account)  # a repeat after a crash: the figures follow
    return account.payments[reference], account, changed.written


def _same_or_conflict(known: Payment, order_id: str, amount: int, currency: str) -> None:
    if (known.order_id, known.amount, known.currency) != (order_id, amount, currency):
        raise PaymentConflict(
            f"reference {known.reference} was recorded for order {known.order_id}, "
            f"{known.amount} {known.currency}",
            {"reference": "already used for another payment"},
        )


async def refund_payments(cmd: RefundPayments, env: Envelope, billing: Billing) -> None:
    """Owe back what was received for the order and take no more (R7.1, R6.2); answered again,
    under the same id, to a duplicate."""
    if await billing.accounts.load_cached(cmd.order_id) is None:
        nothing = PaymentsRefunded(order_id=cmd.order_id, refund_ids=[], amount=0)
        closed = OrderAccount(cmd.order_id, None, closed="refunded")
        try:  # nothing was ever received: say so, and take nothing later
            await billing.accounts.flush(await billing.accounts.add(closed, billing.answers(env)([nothing])))
            return
        except DuplicateKeyError:
            pass  # the account was made meanwhile: refund on it

    def refund(account: OrderAccount) -> Decision:
        ids, amount, new = account.refund_all(cmd.reason or "order cancelled", utcnow_ms())
        reply = PaymentsRefunded(order_id=cmd.order_id, refund_ids=ids, amount=amount)
        return [reply] if new else Again([reply])

    async def then(account: OrderAccount, before: Mark | None) -> None:
        await billing.refunds.add(records_of(account, ids=account.closing_refunds))
        await exposure.sync(billing, account, before)

    await billing.update_account(cmd.order_id, refund, env, then=then)


async def pay_out(
    billing: Billing,
    refund_id: str,
    by: str,
    at: datetime | None = None,
    acts_for: Callable[[str | None], bool] = lambda _c: True,
) -> RefundRecord:
    """Finance paid the refund out (who, when); a repeat answers the refund as it is."""
    known = await billing.refunds.get(refund_id)
    if known is None or not acts_for(known.customer_id):
        raise UnknownRefund(f"no refund {refund_id}")
    paid = await billing.refunds.pay_out(refund_id, by, at or utcnow_ms())
    assert paid is not None
    return paid
