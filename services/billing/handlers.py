"""Billing use cases for credit (R3.1, R7.1) and customers: load, decide in the domain, save + reply.

Every change goes through ``Billing.update_customer`` (``shared.aggregates.change`` with the
customer's turn in this process): the reply is staged in the customer document the decision is
written to and published right after the write, so a crash can lose neither the change nor its
reply; a duplicate writes nothing and is answered again under the same id. Invoicing lives in
``invoicing.py``; both share the ``Billing`` dependencies (deps.py).
"""

from __future__ import annotations

import logging

from pymongo.errors import DuplicateKeyError

from services.billing.adapters.mongo_order_links import is_released
from services.billing.deps import Billing
from services.billing.domain import Customer
from services.billing.domain.customer import CreditDecision
from shared.aggregates import Again, Decision
from shared.contracts import (
    CreditLimitExceeded,
    CreditReleased,
    CreditReserved,
    Message,
    ReleaseCredit,
    ReserveCredit,
)
from shared.envelope import Envelope

log = logging.getLogger(__name__)
__all__ = ["Billing", "put_customer", "release_credit", "reserve_credit"]


async def reserve_credit(cmd: ReserveCredit, env: Envelope, billing: Billing) -> None:
    """Hold credit for the order or refuse it over the limit (R3.1); nothing after a release."""
    link = await billing.links.claim(cmd.order_id, cmd.customer_id)
    if is_released(link):
        # Tombstone: the saga compensated this step before the command arrived; it expects no reply.
        log.info("credit reservation arrived after its release: ignored", extra={"order_id": cmd.order_id})
        return

    def reserve(customer: Customer) -> Decision:
        decision = customer.reserve(cmd.order_id, cmd.amount, cmd.force)
        if decision.outcome == "ignored":
            return []
        reply = _credit_reply(customer, cmd.order_id, decision)
        return Again([reply]) if decision.repeated else [reply]

    if await billing.update_customer(link["customer_id"], reserve, env) is None:
        customer_id = link["customer_id"]
        reason = f"customer {customer_id} is unknown to billing: PUT /customers/{{id}} first"
        refusal = CreditLimitExceeded(order_id=cmd.order_id, customer_id=customer_id, amount=cmd.amount,
                                      exposure=0, credit_limit=0, reason=reason)  # fmt: skip
        await _reply_without_customer(billing, refusal, env)


def _credit_reply(customer: Customer, order_id: str, decision: CreditDecision) -> Message:
    if decision.outcome == "refused":
        return CreditLimitExceeded(
            order_id=order_id,
            customer_id=customer.customer_id,
            amount=decision.amount,
            exposure=decision.exposure,
            credit_limit=decision.credit_limit,
            reason=decision.reason,
        )
    return CreditReserved(
        order_id=order_id,
        customer_id=customer.customer_id,
        amount=decision.amount,
        exposure=decision.exposure,
        skipped=decision.outcome == "skipped",
    )


async def release_credit(cmd: ReleaseCredit, env: Envelope, billing: Billing) -> None:
    """Give back what was held for the order (R7.1) and leave a tombstone against a late reserve."""
    link = await billing.links.release(cmd.order_id)

    def release(customer: Customer) -> Decision:
        changes = customer.release_changes(cmd.order_id)  # False for a duplicate, or invoiced meanwhile
        reply = CreditReleased(order_id=cmd.order_id, amount=customer.release(cmd.order_id))
        return [reply] if changes else Again([reply])

    customer_id = link["customer_id"]
    if customer_id is None or await billing.update_customer(customer_id, release, env) is None:
        # Nothing was ever held: say so, so the saga's compensation completes.
        await _reply_without_customer(billing, CreditReleased(order_id=cmd.order_id, amount=0), env)


async def _reply_without_customer(billing: Billing, reply: Message, cause: Envelope) -> None:
    # Nothing is staged: the answer follows from the stored link alone, and the command is acked
    # only after this publish, so a crash in between redelivers it and it is answered again.
    await billing.customers.publish(billing.answers(cause)([reply]))


async def put_customer(
    billing: Billing, customer_id: str, name: str, terms: str, limit: int
) -> tuple[Customer, bool]:
    """Create or update a customer's credit terms; True when it was created."""

    def update(customer: Customer) -> Decision:
        customer.update_terms(name, terms, limit)
        return []

    changed = await billing.update_customer(customer_id, update, None)
    if changed is None:
        customer = Customer(customer_id, name, terms, limit)
        try:
            await billing.customers.add(customer)
            return customer, True
        except DuplicateKeyError:  # a concurrent PUT created it first: update that one
            changed = await billing.update_customer(customer_id, update, None)
            assert changed is not None  # customers are never deleted
    return changed.loaded.aggregate, False
