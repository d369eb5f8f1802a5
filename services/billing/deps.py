"""What billing's handlers and routes depend on, built once by ``main.bootstrap``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.billing.domain import Customer
from services.billing.ports import CustomerStore, InvoiceStore, OrderLinkStore, PaymentStore
from services.billing.settings import Settings
from shared.aggregates import Answers, Changed, Decision, NotFound, change
from shared.envelope import Envelope
from shared.locks import KeyedLocks


@dataclass
class Billing:
    """The handlers' dependencies: Mongo adapters in the service, fakes in handler tests."""

    settings: Settings
    customers: CustomerStore
    links: OrderLinkStore
    invoices: InvoiceStore
    payments: PaymentStore
    # A key account has many orders in flight: deliveries for one customer take turns here.
    customer_locks: KeyedLocks = field(default_factory=KeyedLocks)

    def answers(self, cause: Envelope | None) -> Answers:
        return Answers(self.settings.service_name, cause)

    async def update_customer(
        self, customer_id: str, decide: Callable[[Customer], Decision], cause: Envelope | None
    ) -> Changed[Customer] | None:
        """Change the customer (``shared.aggregates.change``), one delivery at a time per customer
        in this process; None when billing does not know the customer."""
        async with self.customer_locks.hold(customer_id):
            try:
                return await change(self.customers, customer_id, decide, envelopes=self.answers(cause),
                                    attempts=self.settings.write_attempts)  # fmt: skip
            except NotFound:
                return None
