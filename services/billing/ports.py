"""Billing's repository ports: what the handlers need from a store, whatever keeps it.

The Mongo adapters (adapters/) implement them on the real store, the ``Fake...`` adapters of
tests/support/fakes_billing.py in memory; tests/integration/billing/test_*_store_contract.py
holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from services.billing.domain import Customer, Invoice, Payment
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope
from shared.paging import Key, Keyset, Page

Doc = dict[str, Any]
# GET /invoices pages oldest first by (issued_at, invoice_id).
INVOICE_PAGES = Keyset("invoices", datetime, str)


class CustomerStore(AggregateStore[Customer], Protocol):
    """Customers by id with their per-order credit entries (``shared.aggregates.change`` changes them)."""

    async def add(self, customer: Customer) -> Loaded[Customer]:
        """Create; DuplicateKeyError when the customer exists (a racing PUT)."""
        ...


class InvoiceStore(Protocol):
    """Invoices and credit notes, each written once with its reply staged, never rewritten (R6.2)."""

    async def by_key(self, key: str) -> Invoice | None:
        """The document of one business event (``invoice:<order>``, ``credit_note:<return>``)."""
        ...

    async def for_order(self, order_id: str, limit: int = 500) -> list[Invoice]: ...

    async def for_customer(self, customer_id: str, limit: int = 500) -> list[Invoice]: ...

    async def page(
        self, *, order_id: str | None = None, customer_id: str | None = None, limit: int,
        after: Key | None = None, customers: tuple[str, ...] | None = None,
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


class OrderLinkStore(Protocol):
    """Which customer an order's credit belongs to, and whether it was released (a tombstone)."""

    async def get(self, order_id: str) -> Doc | None: ...

    async def claim(self, order_id: str, customer_id: str) -> Doc:
        """Link the order to the customer unless linked or released already; returns the link."""
        ...

    async def release(self, order_id: str) -> Doc:
        """Mark the order released; a link created here (no customer) is a tombstone."""
        ...


class PaymentStore(Protocol):
    """Payments received, one per reference (R3.3)."""

    async def record(self, payment: Payment, customer_id: str) -> Payment:
        """Insert the payment, or return the one already recorded under its reference."""
        ...

    async def for_order(self, order_id: str) -> list[Payment]: ...
