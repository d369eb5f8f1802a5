"""In-memory adapters for aftersales' handler tests (issue 6): the ports of
services/aftersales/ports.py on ``FakeDocuments``, with the Mongo adapters' document format.
tests/integration/aftersales/test_return_store_contract.py holds them to the Mongo adapters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.aftersales.adapters.documents import Doc, from_doc, to_doc
from services.aftersales.adapters.mongo_ledgers import ledger_doc, ledger_from_doc
from services.aftersales.adapters.mongo_returns import IN_ORDER, NEWEST_FIRST, changed_doc
from services.aftersales.domain import OrderSnapshot, RefundLedger, Return, counter_key, format_return_id
from services.aftersales.ports import RefundLedgerStore, ReturnStore
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.errors import ConcurrencyError
from shared.paging import Key, Page, slice_page
from shared.store import stage
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore
from tests.support.paging import sees


class FakeReturnStore(FakeDocumentStore, ReturnStore):
    """``MongoReturnStore`` in memory: an order's returns numbered 1, 2, 3 ... (unique per order)."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus, unique=[("order_id", "order_seq")])
        self.counters: dict[str, int] = {}

    async def next_return_id(self, at: datetime) -> str:
        key = counter_key(at)
        self.counters[key] = self.counters.get(key, 0) + 1
        return format_return_id(at, self.counters[key])

    async def insert(self, ret: Return, envelopes: Sequence[Envelope]) -> Loaded[Return]:
        try:
            doc = await self.collection.insert(stage(to_doc(ret), envelopes))
        except DuplicateKeyError as exc:
            raise ConcurrencyError(f"order {ret.order_id} got return no. {ret.order_seq} meanwhile") from exc
        ret.version = doc["version"]
        return Loaded(ret, doc)

    async def load(self, key: str) -> Loaded[Return] | None:
        doc = self.collection.find(_id=key)
        return Loaded(from_doc(doc), doc) if doc else None

    async def save(self, loaded: Loaded[Return], envelopes: Sequence[Envelope]) -> Loaded[Return]:
        doc = await self.collection.replace(changed_doc(loaded, envelopes))
        loaded.aggregate.version = doc["version"]
        return Loaded(loaded.aggregate, doc)

    def fingerprint(self, aggregate: Return) -> Doc:
        return to_doc(aggregate)

    async def for_order(self, order_id: str) -> list[Return]:
        docs = sorted(self.collection.find_all(order_id=order_id), key=lambda d: d["order_seq"])
        return [from_doc(doc) for doc in docs]

    async def page_of_order(
        self, order_id: str, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        docs = [d for d in self.collection.find_all(order_id=order_id) if sees(customers, d["customer_id"])]
        return slice_page(docs, IN_ORDER, after, limit).map(from_doc)

    async def recent(
        self, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        docs = [d for d in self.collection.find_all() if sees(customers, d["customer_id"])]
        return slice_page(docs, NEWEST_FIRST, after, limit).map(from_doc)


class FakeRefundLedgerStore(FakeDocumentStore, RefundLedgerStore):
    """``MongoRefundLedgerStore`` in memory: one ledger per order, created by its first save."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def load(self, key: str) -> Loaded[RefundLedger]:
        doc = self.collection.find(_id=key)
        return Loaded(ledger_from_doc(key, doc), doc or {})

    async def save(self, loaded: Loaded[RefundLedger], envelopes: Sequence[Envelope]) -> Loaded[RefundLedger]:
        assert not envelopes, "a refund ledger carries no messages"
        ledger = loaded.aggregate
        if ledger.version == 0:
            try:
                written = await self.collection.insert(ledger_doc(ledger))
            except DuplicateKeyError as exc:
                raise ConcurrencyError(f"refund ledger of {ledger.order_id} was created meanwhile") from exc
        else:
            written = await self.collection.replace(ledger_doc(ledger))
        ledger.version = int(written["version"])
        return Loaded(ledger, written)

    async def flush(self, saved: Loaded[RefundLedger]) -> None:
        return None

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        assert not envelopes, "a refund ledger carries no messages"

    def fingerprint(self, aggregate: RefundLedger) -> object:
        return ledger_doc(aggregate)["refunds"]


class FakeOrderLookup:
    """Intake's orders as aftersales reads them (``OrderLookup``), from a dict."""

    def __init__(self, *orders: OrderSnapshot) -> None:
        self.orders = {order.order_id: order for order in orders}

    async def get(self, order_id: str) -> OrderSnapshot | None:
        return self.orders.get(order_id)
