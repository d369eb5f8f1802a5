"""Billing use cases for credit (R3.1, R7.1) and customers: load, decide in the domain, save + reply.

Every reply is staged in the document the decision is written to and published by the
outbox right after the write, so a crash can lose neither the change nor its reply.
Invoicing lives in ``invoicing.py``; both share the ``Billing`` dependencies below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.errors import DuplicateKeyError

from services.billing.adapters import (
    MongoCustomerStore,
    MongoInvoiceStore,
    MongoOrderLinkStore,
    MongoPaymentStore,
)
from services.billing.adapters.mongo_order_links import is_released
from services.billing.domain import Customer
from services.billing.domain.customer import CreditDecision
from services.billing.settings import Settings
from shared.contracts import (
    CreditLimitExceeded,
    CreditReleased,
    CreditReserved,
    Message,
    ReleaseCredit,
    ReserveCredit,
)
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.locks import KeyedLocks
from shared.outbox import Outbox

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Again:
    """A duplicate command: nothing is written; these replies are published again under the same
    message ids (``shared.envelope.reply_id``), ARCHITECTURE.md "Duplicates"."""

    messages: list[Message]


Change = Callable[[Customer], list[Message] | Again | None]  # None: nothing to write or send


@dataclass
class Billing:
    """What billing's handlers depend on; built once by ``main.bootstrap``."""

    settings: Settings
    customers: MongoCustomerStore
    links: MongoOrderLinkStore
    invoices: MongoInvoiceStore
    payments: MongoPaymentStore
    outbox: Outbox
    # A key account has many orders in flight: deliveries for one customer take turns here.
    customer_locks: KeyedLocks = field(default_factory=KeyedLocks)

    def envelopes(self, messages: list[Message], cause: Envelope | None) -> list[Envelope]:
        return [new_envelope(m, producer=self.settings.service_name, causation=cause) for m in messages]

    async def update_customer(self, customer_id: str, change: Change, cause: Envelope | None) -> bool:
        """Apply ``change`` to the customer under optimistic concurrency; False if it does not exist."""
        async with self.customer_locks.hold(customer_id):
            return await self._update_customer(customer_id, change, cause)

    async def _update_customer(self, customer_id: str, change: Change, cause: Envelope | None) -> bool:
        for _ in range(self.settings.write_attempts):
            loaded = await self.customers.load(customer_id)
            if loaded is None:
                return False
            customer, doc = loaded
            messages = change(customer)
            if messages is None:
                return True
            if isinstance(messages, Again):
                await self.outbox.publish(self.envelopes(messages.messages, cause))
                return True
            try:
                saved = await self.customers.save(customer, doc, self.envelopes(messages, cause))
            except ConcurrencyError:
                continue  # another replica wrote the customer: decide again on fresh data
            await self.outbox.flush(self.customers.collection, saved)
            return True
        raise ConcurrencyError(f"customer {customer_id} kept changing; the bus will retry")

    async def reply_without_customer(self, messages: list[Message], cause: Envelope) -> None:
        """Reply where no customer document changes (unknown customer, release of nothing).

        Nothing is staged: the answer follows from the stored link alone, and the command is acked
        only after this publish, so a crash in between redelivers it and it is answered again.
        """
        await self.outbox.publish(self.envelopes(messages, cause))


async def reserve_credit(cmd: ReserveCredit, env: Envelope, billing: Billing) -> None:
    """Hold credit for the order or refuse it over the limit (R3.1); nothing after a release."""
    link = await billing.links.claim(cmd.order_id, cmd.customer_id)
    if is_released(link):
        # Tombstone: the saga compensated this step before the command arrived; it expects no reply.
        log.info("credit reservation arrived after its release: ignored", extra={"order_id": cmd.order_id})
        return

    def change(customer: Customer) -> list[Message] | Again | None:
        decision = customer.reserve(cmd.order_id, cmd.amount, cmd.force)
        if decision.outcome == "ignored":
            return None
        reply = _credit_reply(customer, cmd.order_id, decision)
        return Again([reply]) if decision.repeated else [reply]

    if not await billing.update_customer(link["customer_id"], change, env):
        reason = f"customer {link['customer_id']} is unknown to billing: PUT /customers/{{id}} first"
        refusal = CreditLimitExceeded(
            order_id=cmd.order_id,
            customer_id=link["customer_id"],
            amount=cmd.amount,
            exposure=0,
            credit_limit=0,
            reason=reason,
        )
        await billing.reply_without_customer([refusal], env)


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

    def change(customer: Customer) -> list[Message] | Again:
        if not customer.release_changes(cmd.order_id):  # a duplicate, or invoiced meanwhile
            return Again([CreditReleased(order_id=cmd.order_id, amount=customer.release(cmd.order_id))])
        return [CreditReleased(order_id=cmd.order_id, amount=customer.release(cmd.order_id))]

    if link["customer_id"] is None or not await billing.update_customer(link["customer_id"], change, env):
        # Nothing was ever held: say so, so the saga's compensation completes.
        await billing.reply_without_customer([CreditReleased(order_id=cmd.order_id, amount=0)], env)


async def put_customer(
    billing: Billing, customer_id: str, name: str, terms: str, limit: int
) -> tuple[Customer, bool]:
    """Create or update a customer's credit terms; True when it was created."""
    for _ in range(billing.settings.write_attempts):
        loaded = await billing.customers.load(customer_id)
        if loaded is None:
            customer = Customer(customer_id, name, terms, limit)
            try:
                await billing.customers.add(customer)
            except DuplicateKeyError:
                continue  # a concurrent PUT created it: update that one
            return customer, True
        customer, doc = loaded
        customer.update_terms(name, terms, limit)
        try:
            await billing.customers.save(customer, doc)
        except ConcurrencyError:
            continue
        return customer, False
    raise ConcurrencyError(f"customer {customer_id} kept changing")
