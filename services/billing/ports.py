"""Billing's repository ports: what the handlers need from a store, whatever keeps it.

The Mongo adapters (adapters/) implement them on the real store, the ``Fake...`` adapters of
tests/support/fakes_billing.py in memory; tests/integration/billing/test_*_store_contract.py
holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.billing.domain import Customer, Invoice, Mark, OrderAccount, Payment, RefundRecord
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope
from shared.paging import Key, Keyset, Page

Doc = dict[str, Any]
# GET /invoices pages oldest first by (issued_at, invoice_id); GET /refunds by (created_at, refund_id).
INVOICE_PAGES = Keyset("invoices", datetime, str)
REFUND_PAGES = Keyset("refunds", datetime, str)


class CustomerStore(Protocol):
    """Customers: terms, and running totals moved one order's mark at a time (exposure.py)."""

    async def get(self, customer_id: str) -> Customer | None:
        """Terms and totals (never the marks: a customer's read costs the same with any number of orders)."""
        ...

    async def add(self, customer: Customer) -> None:
        """Create; DuplicateKeyError when the customer exists (a racing PUT)."""
        ...

    async def set_terms(self, customer: Customer) -> Customer:
        """Write name, terms, limit and tax identity (never the totals); the customer as stored."""
        ...

    async def mark_of(self, customer_id: str, order_id: str) -> tuple[Customer, Mark] | None:
        """The customer's totals and what the order counts in them (NO_MARK if nothing yet)."""
        ...

    async def move(
        self, customer_id: str, order_id: str, old: Mark, new: Mark, within: int | None = None
    ) -> Customer | None:
        """Atomically replace the order's mark ``old`` by ``new`` and move the totals by the
        difference; only if the mark is still ``old`` and, with ``within`` (the credit limit read),
        the limit is still ``within`` and the new exposure stays within it. None when not moved."""
        ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...


class OrderAccountStore(AggregateStore[OrderAccount], Protocol):
    """One document per order (``shared.aggregates.change`` changes them), replies staged in it."""

    async def add(self, account: OrderAccount, replies: Sequence[Envelope] = ()) -> Loaded[OrderAccount]:
        """Create; DuplicateKeyError when the order has an account already."""
        ...

    async def load_cached(self, order_id: str) -> Loaded[OrderAccount] | None: ...

    async def open_for_customer(self, customer_id: str, limit: int) -> list[OrderAccount]:
        """The customer's orders that count in its exposure now, oldest first."""
        ...


class InvoiceStore(Protocol):
    """Invoices and credit notes, each written once with its reply staged, never rewritten (R6.2)."""

    async def by_key(self, key: str) -> Invoice | None:
        """The document of one business event (``invoice:<order>``, ``credit_note:<return>``)."""
        ...

    async def for_order(self, order_id: str, limit: int = 500) -> list[Invoice]: ...

    async def for_customer(self, customer_id: str, limit: int = 500) -> list[Invoice]: ...

    async def page(
        self,
        *,
        order_id: str | None = None,
        customer_id: str | None = None,
        limit: int,
        after: Key | None = None,
        customers: tuple[str, ...] | None = None,
    ) -> Page[Invoice]:
        """An order's (or else a customer's) documents oldest first, after the key
        (issued_at, invoice_id) ``after``; only ``customers``' (ids, ``PREFIX*``) unless None."""
        ...

    async def get(self, invoice_id: str) -> Invoice | None: ...

    async def next_number(self, prefix: str, at: datetime) -> str:
        """The next document number of the month, distinct under concurrency."""
        ...

    async def add(self, invoice: Invoice, replies: Sequence[Envelope]) -> Loaded[Invoice]:
        """Insert with ``replies`` staged; DuplicateKeyError when its business key is taken."""
        ...

    async def flush(self, saved: Loaded[Invoice]) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...


class PaymentStore(Protocol):
    """Payment references, unique over every order (R3.3): the first use of a reference claims it."""

    async def claim(self, payment: Payment, customer_id: str | None) -> Payment:
        """Claim the reference for this payment, or return the payment that holds it already; a
        reference whose payment was refused is free again and claimed anew."""
        ...

    async def refuse(self, payment: Payment) -> None:
        """The order refused the payment that claimed this reference: the reference is free again."""
        ...

    async def for_order(self, order_id: str) -> list[Payment]: ...


class RefundStore(Protocol):
    """Refunds as finance pays them out: one record per refund entry of an order's account."""

    async def add(self, records: Sequence[RefundRecord]) -> None:
        """Insert those not recorded yet (a repeated call adds nothing)."""
        ...

    async def get(self, refund_id: str) -> RefundRecord | None: ...

    async def for_order(self, order_id: str) -> list[RefundRecord]: ...

    async def page(
        self,
        *,
        order_id: str | None,
        status: str | None,
        limit: int,
        after: Key | None = None,
        customers: tuple[str, ...] | None = None,
    ) -> Page[RefundRecord]:
        """Refunds oldest first by (created_at, refund_id), of one order and/or one status."""
        ...

    async def pay_out(self, refund_id: str, by: str, at: datetime) -> RefundRecord | None:
        """Mark an owed refund paid out (once: a repeat returns it unchanged); None if unknown."""
        ...
