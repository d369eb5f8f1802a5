"""In-memory adapters of billing's ports (services/billing/ports.py) for handler tests, on
``FakeDocuments`` with the Mongo adapters' document format (so the outbox rule is the same): no
store, no broker. tests/integration/billing/test_*_store_contract.py hold them to the Mongo
adapters' behaviour."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.billing.adapters import mongo_accounts as accounts_doc
from services.billing.adapters import mongo_refunds as refunds_doc
from services.billing.adapters.mongo_customers import from_doc, new_doc
from services.billing.adapters.mongo_invoices import OLDEST_FIRST
from services.billing.adapters.mongo_invoices import from_doc as invoice_from_doc
from services.billing.adapters.mongo_invoices import page_query as invoice_page_query
from services.billing.adapters.mongo_invoices import to_doc as invoice_to_doc
from services.billing.deps import Billing
from services.billing.domain import (
    NO_MARK,
    OWED,
    PAID_OUT,
    Customer,
    Invoice,
    Mark,
    OrderAccount,
    Payment,
    RefundRecord,
    document_number,
    period_of,
)
from services.billing.settings import Settings
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.keys import encode_key
from shared.paging import Key, Page, slice_page
from shared.store import Doc, stage
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore
from tests.support.paging import sees

Hook = Callable[[], Awaitable[None]]


class FakeCustomerStore:
    """``MongoCustomerStore`` in memory: totals moved by one atomic compare-and-set per order mark.
    ``writes`` counts adds and changes; ``before_next_move`` holds racing writers, each run once just
    before the next ``move`` looks at the document."""

    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.docs: dict[str, Doc] = {}
        self.writes = 0
        self.before_next_move: list[Hook] = []

    async def get(self, customer_id: str) -> Customer | None:
        doc = self.docs.get(customer_id)
        return from_doc(doc) if doc else None

    async def add(self, customer: Customer) -> None:
        if customer.customer_id in self.docs:
            raise DuplicateKeyError(f"customer {customer.customer_id} exists")
        self.docs[customer.customer_id] = {**new_doc(customer), "version": 1}
        self.writes += 1

    async def set_terms(self, customer: Customer) -> Customer:
        doc = self.docs[customer.customer_id]
        for name in ("name", "payment_terms", "credit_limit", "taxpayer", "tax_number"):
            doc[name] = getattr(customer, name)
        doc["version"] += 1
        self.writes += 1
        return from_doc(doc)

    def mark(self, customer_id: str, order_id: str) -> Mark:
        raw = self.docs[customer_id]["marks"].get(encode_key(order_id))
        return Mark(raw["h"], raw["r"], raw["s"]) if raw else NO_MARK

    async def mark_of(self, customer_id: str, order_id: str) -> tuple[Customer, Mark] | None:
        doc = self.docs.get(customer_id)
        return (from_doc(doc), self.mark(customer_id, order_id)) if doc else None

    async def move(
        self, customer_id: str, order_id: str, old: Mark, new: Mark, within: int | None = None
    ) -> Customer | None:
        racers, self.before_next_move[:] = list(self.before_next_move), []
        for racer in racers:
            await racer()
        doc = self.docs.get(customer_id)
        if doc is None or self.mark(customer_id, order_id) != old:
            return None
        increase = new.exposure - old.exposure
        if within is not None and (doc["credit_limit"] != within or doc["exposure"] + increase > within):
            return None
        doc["held"] += new.held - old.held
        doc["receivable"] += new.receivable - old.receivable
        doc["exposure"] += increase
        doc["marks"][encode_key(order_id)] = {"h": new.held, "r": new.receivable, "s": new.seq}
        doc["version"] += 1
        self.writes += 1
        return from_doc(doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await self.bus.publish(envelope)


class FakeOrderAccountStore(FakeDocumentStore):
    """``MongoOrderAccountStore`` in memory: one document per order, replies staged in it."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def load(self, order_id: str) -> Loaded[OrderAccount] | None:
        doc = self.collection.find(_id=order_id)
        return Loaded(accounts_doc.from_doc(doc), doc) if doc else None

    async def load_cached(self, order_id: str) -> Loaded[OrderAccount] | None:
        return await self.load(order_id)

    async def add(self, account: OrderAccount, replies: Sequence[Envelope] = ()) -> Loaded[OrderAccount]:
        return Loaded(account, await self.collection.insert(accounts_doc.new_doc(account, replies)))

    async def save(
        self, loaded: Loaded[OrderAccount], replies: Sequence[Envelope] = ()
    ) -> Loaded[OrderAccount]:
        written = await self.collection.replace(accounts_doc.saved_doc(loaded, replies))
        return Loaded(loaded.aggregate, written)

    def fingerprint(self, account: OrderAccount) -> Doc:
        return accounts_doc.to_doc(account)

    async def open_for_customer(self, customer_id: str, limit: int) -> list[OrderAccount]:
        docs = [d for d in self.collection.find_all(customer_id=customer_id) if d["exposure"] > 0]
        docs.sort(key=lambda d: d["created_at"])
        return [accounts_doc.from_doc(d) for d in docs[:limit]]


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
    ) -> Page[Invoice]:  # fmt: skip
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


class FakePaymentStore:
    """``MongoPaymentStore`` in memory: a reference is claimed once over every order."""

    def __init__(self) -> None:
        self.payments: dict[str, tuple[Payment, str]] = {}  # reference -> (payment, state)

    async def claim(self, payment: Payment, customer_id: str | None) -> Payment:
        known = self.payments.get(payment.reference)
        if known is None or known[1] == "refused":
            self.payments[payment.reference] = (payment, "claimed")
            return payment
        return known[0]

    async def refuse(self, payment: Payment) -> None:
        known = self.payments.get(payment.reference)
        if known is not None and known[0] == payment:
            self.payments[payment.reference] = (payment, "refused")

    async def for_order(self, order_id: str) -> list[Payment]:
        paid = [p for p, state in self.payments.values() if p.order_id == order_id and state == "claimed"]
        return sorted(paid, key=lambda p: p.received_at)


class FakeRefundStore:
    """``MongoRefundStore`` in memory."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}

    async def add(self, records: Sequence[RefundRecord]) -> None:
        for record in records:
            self.docs.setdefault(record.refund_id, refunds_doc.to_doc(record))

    async def get(self, refund_id: str) -> RefundRecord | None:
        doc = self.docs.get(refund_id)
        return refunds_doc.from_doc(doc) if doc else None

    async def for_order(self, order_id: str) -> list[RefundRecord]:
        docs = [d for d in self.docs.values() if d["order_id"] == order_id]
        return [refunds_doc.from_doc(d) for d in sorted(docs, key=refunds_doc.OLDEST_FIRST.key)]

    async def page(
        self, *, order_id: str | None, status: str | None, limit: int, after: Key | None = None,
        customers: tuple[str, ...] | None = None,
    ) -> Page[RefundRecord]:  # fmt: skip
        query = refunds_doc.page_query(order_id, status)
        docs = [
            copy.deepcopy(d)
            for d in self.docs.values()
            if all(d.get(k) == v for k, v in query.items()) and sees(customers, d["customer_id"] or "")
        ]
        return slice_page(docs, refunds_doc.OLDEST_FIRST, after, limit).map(refunds_doc.from_doc)

    async def pay_out(self, refund_id: str, by: str, at: datetime) -> RefundRecord | None:
        doc = self.docs.get(refund_id)
        if doc is None:
            return None
        if doc["status"] == OWED:
            doc.update(status=PAID_OUT, paid_out_by=by, paid_out_at=at)
        return refunds_doc.from_doc(doc)


def fake_billing(bus: FakeBus, **settings: Any) -> Billing:
    """A ``Billing`` on fakes: ``billing.customers``, ``billing.accounts``... are the fakes above."""
    return Billing(Settings(**settings), FakeCustomerStore(bus), FakeOrderAccountStore(bus),
                   FakeInvoiceStore(bus), FakePaymentStore(), FakeRefundStore())  # fmt: skip


