"""In-memory adapters of the inventory's ports (services/inventory/ports.py) for handler tests, on
``FakeDocuments`` with the Mongo adapters' document format (so the outbox rule is the same): no
store, no broker. tests/integration/inventory/test_reservation_store_contract.py and
test_stock_store_contract.py hold them to the Mongo adapters' behaviour."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from services.inventory.adapters import mongo_receipts
from services.inventory.adapters.mongo_reservations import from_doc, new_doc, saved_doc, to_fields
from services.inventory.adapters.mongo_stock import from_doc as stock_from_doc
from services.inventory.deps import Inventory
from services.inventory.domain import (
    HoldChange,
    Product,
    Reservation,
    ReturnReceipt,
    adjusted_hold,
    draw_from_largest,
    reservable,
)
from services.inventory.settings import Settings
from shared.aggregates import Loaded
from shared.envelope import Envelope, utcnow
from shared.keys import encode_key
from shared.paging import Key, Order, Page, slice_page
from shared.store import Doc, stage
from tests.support.fakes import FakeBus, FakeDocuments, FakeDocumentStore


class FakeReservationStore(FakeDocumentStore):
    """``MongoReservationStore`` in memory; ``writes`` counts inserts and saves."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def load(self, order_id: str) -> Loaded[Reservation] | None:
        doc = self.collection.find(_id=order_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, reservation: Reservation, replies: Sequence[Envelope] = ()) -> Loaded[Reservation]:
        return Loaded(reservation, await self.collection.insert(new_doc(reservation, replies)))

    async def save(
        self, loaded: Loaded[Reservation], replies: Sequence[Envelope] = ()
    ) -> Loaded[Reservation]:
        return Loaded(loaded.aggregate, await self.collection.replace(saved_doc(loaded, replies)))

    def fingerprint(self, reservation: Reservation) -> Doc:
        return to_fields(reservation)


class FakeReturnReceiptStore(FakeDocumentStore):
    """``MongoReturnReceiptStore`` in memory."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus)

    async def get(self, return_id: str) -> ReturnReceipt | None:
        doc = self.collection.find(_id=return_id)
        return mongo_receipts.from_doc(doc) if doc else None

    async def insert(self, receipt: ReturnReceipt, replies: Sequence[Envelope]) -> Loaded[ReturnReceipt]:
        doc = stage({**mongo_receipts.to_doc(receipt), "created_at": utcnow()}, replies)
        return Loaded(receipt, await self.collection.insert(doc))


class FakeStockStore:
    """``MongoStockStore``'s writes in memory, on documents of the same shape (``holds.<order>``,
    ``receipts.<id>``, ``commits.<order>``, stored counters); each write is one atomic step."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}

    async def ensure(self, sku: str) -> None:
        self.docs.setdefault(sku, {"_id": sku, "on_hand": 0, "reserved": 0, "available": 0, "warehouses": {},
                                   "holds": {}, "receipts": {}, "commits": {}})  # fmt: skip

    async def get(self, sku: str) -> Doc | None:
        doc = self.docs.get(sku)
        return copy.deepcopy(doc) if doc is not None else None

    async def count(self, sku: str, warehouse: str, on_hand: int) -> Doc:
        await self.ensure(sku)
        doc = self.docs[sku]
        delta = stock_from_doc(doc).count(warehouse, on_hand)  # raises BelowReserved
        doc["warehouses"][encode_key(warehouse)] = on_hand
        self._add(doc, on_hand=delta, available=delta)
        return copy.deepcopy(doc)

    async def hold(self, sku: str, order_id: str, wanted: int) -> int:
        await self.ensure(sku)
        doc, key = self.docs[sku], encode_key(order_id)
        if key not in doc["holds"]:
            doc["holds"][key] = units = reservable(doc["available"], wanted)
            self._add(doc, available=-units, reserved=units)
        return int(doc["holds"][key])

    async def release(self, sku: str, order_id: str) -> int:
        doc = self.docs.get(sku)
        held = doc["holds"].pop(encode_key(order_id), None) if doc else None
        if doc is None or held is None:
            return 0
        self._add(doc, available=held, reserved=-held)
        return int(held)

    async def commit(self, sku: str, order_id: str) -> int:
        doc, key = self.docs.get(sku), encode_key(order_id)
        if doc is None:
            return 0
        if key in doc["commits"]:
            return sum(doc["commits"][key].values())
        if (held := doc["holds"].get(key)) is None:
            return 0
        draws = draw_from_largest(stock_from_doc(doc).warehouses, held)
        for name, units in draws.items():
            doc["warehouses"][encode_key(name)] -= units
        del doc["holds"][key]
        doc["commits"][key] = {encode_key(name): units for name, units in draws.items()}
        self._add(doc, on_hand=-held, reserved=-held)
        return int(held)

    async def receive(
        self, sku: str, receipt_id: str, quantity: int, warehouse: str, order_id: str = "", hold: int = 0
    ) -> tuple[bool, int]:
        await self.ensure(sku)
        doc, receipt = self.docs[sku], encode_key(receipt_id)
        counted = receipt not in doc["receipts"]
        if counted:
            doc["receipts"][receipt] = quantity
            where = encode_key(warehouse)
            doc["warehouses"][where] = doc["warehouses"].get(where, 0) + quantity
            if hold:
                doc["holds"][encode_key(order_id)] = doc["holds"].get(encode_key(order_id), 0) + hold
            self._add(doc, on_hand=quantity, available=quantity - hold, reserved=hold)
        return counted, int(doc["holds"].get(encode_key(order_id), 0)) if order_id else 0

    async def adjust(self, sku: str, order_id: str, change_id: str, wanted: int) -> HoldChange:
        doc, key = self.docs.get(sku), encode_key(order_id)
        if doc is None:
            if wanted == 0:
                return HoldChange(0, 0, 0)
            await self.ensure(sku)
            doc = self.docs[sku]
        current = doc["holds"].get(key)
        done = doc.get("adjustments", {}).get(key)
        if done is not None and done["change"] == change_id:
            return HoldChange(done["before"], done["after"], int(current or 0))
        if current is None and wanted == 0:
            return HoldChange(0, 0, 0)
        before = int(current or 0)
        after = adjusted_hold(before, doc["available"], wanted)
        doc["holds"][key] = after
        doc.setdefault("adjustments", {})[key] = {"change": change_id, "before": before, "after": after}
        self._add(doc, available=before - after, reserved=after - before)
        return HoldChange(before, after, after)

    async def limit(self, sku: str, order_id: str, most: int) -> int:
        doc, key = self.docs.get(sku), encode_key(order_id)
        held = doc["holds"].get(key) if doc else None
        if doc is None or held is None or held <= most:
            return int(held or 0)
        doc["holds"][key] = most
        self._add(doc, available=held - most, reserved=most - held)
        return most

    @staticmethod
    def _add(doc: Doc, **deltas: int) -> None:
        for name, delta in deltas.items():
            doc[name] += delta


class FakeProductStore:
    """The catalogue in memory."""

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.products: dict[str, Product] = {p.sku: p for p in products}

    async def put(self, product: Product) -> bool:
        new = product.sku not in self.products
        self.products[product.sku] = product
        return new

    async def get(self, sku: str) -> Product | None:
        return self.products.get(sku)

    async def get_many(self, skus: Iterable[str]) -> dict[str, Product]:
        return {sku: self.products[sku] for sku in sorted(set(skus)) if sku in self.products}

    async def bundles_containing(self, sku: str) -> list[str]:
        return sorted(p.sku for p in self.products.values() if any(c.sku == sku for c in p.components))

    async def page(self, limit: int, after: Key | None = None) -> Page[Product]:
        docs = [{"_id": sku} for sku in self.products]
        return slice_page(docs, Order("_id"), after, limit).map(lambda doc: self.products[doc["_id"]])


def fake_inventory(bus: FakeBus, **settings: Any) -> Inventory:
    """An ``Inventory`` on fakes: ``inv.reservations``, ``inv.stock``... are the fakes above."""
    return Inventory(Settings(**settings), FakeProductStore(), FakeStockStore(), FakeReservationStore(bus),
                     FakeReturnReceiptStore(bus))  # fmt: skip
