"""In-memory adapters of billing's ports (services/billing/ports.py) for handler tests, on
``FakeDocuments`` with the Mongo adapters' document format (so the outbox rule is the same): no
store, no broker. tests/integration/billing/test_customer_store_contract.py and
test_invoice_store_contract.py hold them to the Mongo adapters' behaviour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from services.billing.adapters.mongo_customers import from_doc, new_doc, saved_doc, to_doc
from services.billing.adapters.mongo_invoices import OLDEST_FIRST
from services.billing.adapters.mongo_invoices import from_doc as invoice_from_doc
from services.billing.adapters.mongo_invoices import page_query as invoice_page_query
from services.billing.adapters.mongo_invoices import to_doc as invoice_to_doc
from services.billing.adapters.mongo_order_links import LINKED, RELEASED
from services.billing.deps import Billing
from services.billing.domain import Customer, Invoice, Payment, document_number, period_of
from services.billing.settings import Settings
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.paging import Key, Page, slice_page
from shared.store import Doc, stage
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore
from tests.support.paging import sees

Hook = Callable[[], Awaitable[None]]


class FakeCustomerStore(FakeDocumentStore):
    """``MongoCustomerStore`` in memory; ``writes`` counts adds and saves."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def load(self, customer_id: str) -> Loaded[Customer] | None:
        doc = self.collection.find(_id=customer_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def add(self, customer: Customer) -> Loaded[Customer]:
        return Loaded(customer, await self.collection.insert(new_doc(customer)))

    async def save(self, loaded: Loaded[Customer], replies: Sequence[Envelope] = ()) -> Loaded[Customer]:
        return Loaded(loaded.aggregate, await self.collection.replace(saved_doc(loaded, replies)))

    def fingerprint(self, customer: Customer) -> Doc:
        return to_doc(customer)


class FakeInvoiceStore(FakeDocumentStore):
    """``MongoInvoiceStore`` in memory: a unique business key per document, per-month counters."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus, unique=[("key",)])
        self.counters: dict[str, int] = {}
        # Run after the next by_key has looked, before it answers: a racing copy writes meanwhile.
        self.after_next_look: list[Hook] = []

    async def by_key(self, key: str) -> Invoice | None:
        doc = self.collection.find(key=key)
        while self.after_next_look:
            await self.after_next_look.pop(0)()
        return invoice_from_doc(doc) if doc else None

    async def for_order(self, order_id: str, limit: int = 500) -> list[Invoice]:
        return self._oldest_first(self.collection.find_all(order_id=order_id), limit)

    async def for_customer(self, customer_id: str, limit: int = 500) -> list[Invoice]:
        return self._oldest_first(self.collection.find_all(customer_id=customer_id), limit)

    async def page(
        self, *, order_id: str | None = None, customer_id: str | None = None, limit: int,
        after: Key | None = None, customers: tuple[str, ...] | None = None,
    ) -> Page[Invoice]:
        docs = [d for d in self.collection.find_all(**invoice_page_query(order_id, customer_id))
                if sees(customers, d["customer_id"])]  # fmt: skip
        return slice_page(docs, OLDEST_FIRST, after, limit).map(invoice_from_doc)

    async def get(self, invoice_id: str) -> Invoice | None:
        doc = self.collection.find(_id=invoice_id)
        return invoice_from_doc(doc) if doc else None

    async def next_number(self, prefix: str, at: datetime) -> str:
        key = f"{prefix}{period_of(at)}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return document_number(prefix, at, self.counters[key])

    async def add(self, invoice: Invoice, replies: Sequence[Envelope]) -> Loaded[Invoice]:
        return Loaded(invoice, await self.collection.insert(stage(invoice_to_doc(invoice), replies)))

    @staticmethod
    def _oldest_first(docs: list[Doc], limit: int) -> list[Invoice]:
        return [invoice_from_doc(doc) for doc in sorted(docs, key=lambda d: d["issued_at"])[:limit]]


class FakeOrderLinkStore:
    """``MongoOrderLinkStore`` in memory: ``{_id, customer_id, state: linked|released}``."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}

    async def get(self, order_id: str) -> Doc | None:
        return dict(self.docs[order_id]) if order_id in self.docs else None

    async def claim(self, order_id: str, customer_id: str) -> Doc:
        link = {"_id": order_id, "customer_id": customer_id, "state": LINKED}
        return dict(self.docs.setdefault(order_id, link))

    async def release(self, order_id: str) -> Doc:
        link = self.docs.setdefault(order_id, {"_id": order_id, "customer_id": None, "state": RELEASED})
        link["state"] = RELEASED
        return dict(link)


class FakePaymentStore:
    """``MongoPaymentStore`` in memory: one payment per reference."""

    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}

    async def record(self, payment: Payment, customer_id: str) -> Payment:
        return self.payments.setdefault(payment.reference, payment)

    async def for_order(self, order_id: str) -> list[Payment]:
        paid = [p for p in self.payments.values() if p.order_id == order_id]
        return sorted(paid, key=lambda p: p.received_at)


def fake_billing(bus: FakeBus, **settings: Any) -> Billing:
    """A ``Billing`` on fakes: ``billing.customers``, ``billing.invoices``... are the fakes above."""
    return Billing(Settings(**settings), FakeCustomerStore(bus), FakeOrderLinkStore(), FakeInvoiceStore(bus),
                   FakePaymentStore())  # fmt: skip
