"""Stock documents, one per SKU, changed only by conditional atomic updates (R4.1: never oversell).

Document: ``{_id: sku, on_hand, reserved, available, warehouses: {wh: n}, holds: {order: n},
receipts: {receipt: n}, commits: {order: {wh: n}}, adjustments: {order: {change, before, after}}}``
(``adjustments``: the order's last change made on this SKU, issue 8; absent on older documents).
``on_hand``/``reserved``/``available`` are kept as stored counters so a filter such as
``available >= q`` and an ``$inc`` happen in one single-document write; that is the whole
concurrency story (STORE.md: no transactions).
Decisions (how much to hold, which warehouse ships) come from the domain.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.inventory.domain import HoldChange, Stock, adjusted_hold, draw_from_largest, reservable
from shared.envelope import utcnow
from shared.errors import ConcurrencyError
from shared.keys import decode_key, encode_key

Doc = dict[str, Any]
AFTER = ReturnDocument.AFTER


def _decoded(raw: dict[str, Any] | None) -> dict[str, Any]:
    return {decode_key(k): v for k, v in (raw or {}).items()}


def from_doc(doc: Doc) -> Stock:
    return Stock(
        sku=doc["_id"],
        warehouses=_decoded(doc.get("warehouses")),
        holds=_decoded(doc.get("holds")),
        receipts=_decoded(doc.get("receipts")),
        commits={decode_key(k): _decoded(v) for k, v in (doc.get("commits") or {}).items()},
        adjustments=_decoded(doc.get("adjustments")),
    )


class MongoStockStore:
    """Atomic stock writes; every method is safe to repeat (idempotent by order or receipt id)."""

    def __init__(self, collection: AsyncCollection[Doc], attempts: int = 50) -> None:
        self.collection = collection
        self.attempts = attempts

    async def ensure(self, sku: str) -> None:
        """Create the SKU's empty stock document once (a racing twin's insert is fine)."""
        if await self.collection.find_one({"_id": sku}, {"_id": 1}):
            return
        empty = {"_id": sku, "on_hand": 0, "reserved": 0, "available": 0, "warehouses": {}, "holds": {},
                 "receipts": {}, "commits": {}, "created_at": utcnow()}  # fmt: skip
        try:
            await self.collection.insert_one(empty)
        except DuplicateKeyError:
            pass

    async def get(self, sku: str) -> Doc | None:
        return await self.collection.find_one({"_id": sku})

    async def count(self, sku: str, warehouse: str, on_hand: int) -> Doc:
        """Set one warehouse's counted quantity; BelowReserved if it would undercut the holds.

        Compare-and-set on the warehouse's previous value; ``available >= -delta`` re-checks the
        rule inside the write, so a reservation landing in between cannot be undercut.
        """
        await self.ensure(sku)
        path = f"warehouses.{encode_key(warehouse)}"
        for _ in range(self.attempts):
            doc = await self.get(sku)
            assert doc is not None
            delta = from_doc(doc).count(warehouse, on_hand)  # raises BelowReserved
            previous = (doc.get("warehouses") or {}).get(encode_key(warehouse))
            guard = previous if previous is not None else {"$exists": False}
            updated = await self.collection.find_one_and_update(
                {"_id": sku, path: guard, "available": {"$gte": -delta}},
                {"$inc": {"on_hand": delta, "available": delta}, "$set": {path: on_hand}},
                return_document=AFTER,
            )
            if updated is not None:
                return updated
        raise ConcurrencyError(f"stock {sku} kept changing while counting")

    async def hold(self, sku: str, order_id: str, wanted: int) -> int:
        """Hold up to ``wanted`` units for the order (R4.1); a repeat returns the first decision.

        The hold is recorded even when it is 0 so a redelivered ReserveStock does not decide again.
        """
        path = f"holds.{encode_key(order_id)}"
        quantity = wanted
        for _ in range(self.attempts):
            updated = await self.collection.find_one_and_update(
                {"_id": sku, "available": {"$gte": quantity}, path: {"$exists": False}},
                {"$inc": {"available": -quantity, "reserved": quantity}, "$set": {path: quantity}},
                projection={"_id": 1},
            )
            if updated is not None:
                return quantity
            doc = await self.get(sku)
            if doc is None:
                await self.ensure(sku)
                continue
            held = (doc.get("holds") or {}).get(encode_key(order_id))
            if held is not None:
                return int(held)
            quantity = reservable(doc["available"], wanted)  # someone took units meanwhile
        raise ConcurrencyError(f"stock {sku} kept changing while reserving")

    async def release(self, sku: str, order_id: str) -> int:
        """Give back exactly what is held for the order; 0 when nothing is (already released/shipped)."""
        path = f"holds.{encode_key(order_id)}"
        for _ in range(self.attempts):
            doc = await self.collection.find_one({"_id": sku}, {"holds": 1})
            held = ((doc or {}).get("holds") or {}).get(encode_key(order_id))
            if held is None:
                return 0
            updated = await self.collection.find_one_and_update(
                {"_id": sku, path: held},
                {"$inc": {"available": held, "reserved": -held}, "$unset": {path: ""}},
                projection={"_id": 1},
            )
            if updated is not None:
                return int(held)
        raise ConcurrencyError(f"stock {sku} kept changing while releasing")

    async def adjust(self, sku: str, order_id: str, change_id: str, wanted: int) -> HoldChange:
        """An order change (issue 8, R7.2): the order's hold becomes ``adjusted_hold`` of ``wanted``.

        One conditional write: the hold as read (``holds.<order>`` unchanged), for more units
        ``available >= more``, and ``adjustments.<order>`` set to this change with the hold before
        and after, which is how a repeat of the change (a redelivery after a crash between SKUs)
        finds it made and returns what it did without releasing or holding anything again.
        """
        key = encode_key(order_id)
        path, mark = f"holds.{key}", f"adjustments.{key}"
        for _ in range(self.attempts):
            doc = await self.collection.find_one({"_id": sku}, {"holds": 1, "adjustments": 1, "available": 1})
            if doc is None:
                if wanted == 0:
                    return HoldChange(0, 0, 0)
                await self.ensure(sku)
                continue
            current = (doc.get("holds") or {}).get(key)
            done = (doc.get("adjustments") or {}).get(key)
            if done is not None and done.get("change") == change_id:
                return HoldChange(int(done["before"]), int(done["after"]), int(current or 0))
            if current is None and wanted == 0:
                return HoldChange(0, 0, 0)  # nothing held, nothing wanted: nothing to remember
            before = int(current or 0)
            after = adjusted_hold(before, doc["available"], wanted)
            more = after - before
            where: Doc = {"_id": sku, path: current if current is not None else {"$exists": False}}
            if more > 0:
                where["available"] = {"$gte": more}
            record = {"change": change_id, "before": before, "after": after}
            updated = await self.collection.find_one_and_update(
                where,
                {"$inc": {"available": -more, "reserved": more}, "$set": {path: after, mark: record}},
                projection={"_id": 1},
            )
            if updated is not None:
                return HoldChange(before, after, after)
        raise ConcurrencyError(f"stock {sku} kept changing while adjusting")

    async def limit(self, sku: str, order_id: str, most: int) -> int:
        """Give back what the order holds beyond ``most``; returns the hold afterwards.

        For a receipt that held units while a change cut the order (a race): the order keeps
        what it wants, the rest goes back to available.
        """
        path = f"holds.{encode_key(order_id)}"
        for _ in range(self.attempts):
            doc = await self.collection.find_one({"_id": sku}, {"holds": 1})
            held = ((doc or {}).get("holds") or {}).get(encode_key(order_id))
            if held is None or held <= most:
                return int(held or 0)
            excess = held - most
            updated = await self.collection.find_one_and_update(
                {"_id": sku, path: held},
                {"$inc": {"available": excess, "reserved": -excess}, "$set": {path: most}},
                projection={"_id": 1},
            )
            if updated is not None:
                return most
        raise ConcurrencyError(f"stock {sku} kept changing while limiting a hold")

    async def commit(self, sku: str, order_id: str) -> int:
        """The order's held units leave on hand and reserved, taken from the fullest warehouses."""
        key = encode_key(order_id)
        for _ in range(self.attempts):
            doc = await self.get(sku)
            if doc is None:
                return 0
            done = (doc.get("commits") or {}).get(key)
            if done is not None:
                return sum(done.values())  # shipped already: a redelivery
            held = (doc.get("holds") or {}).get(key)
            if held is None:
                return 0
            draws = draw_from_largest(_decoded(doc.get("warehouses")), held)
            where: Doc = {"_id": sku, f"holds.{key}": held, f"commits.{key}": {"$exists": False}}
            change: Doc = {"on_hand": -held, "reserved": -held}
            for name, units in draws.items():
                where[f"warehouses.{encode_key(name)}"] = {"$gte": units}
                change[f"warehouses.{encode_key(name)}"] = -units
            record = {encode_key(name): units for name, units in draws.items()}
            updated = await self.collection.find_one_and_update(
                where,
                {"$inc": change, "$unset": {f"holds.{key}": ""}, "$set": {f"commits.{key}": record}},
                projection={"_id": 1},
            )
            if updated is not None:
                return int(held)
        raise ConcurrencyError(f"stock {sku} kept changing while committing")

    async def receive(self, sku: str, receipt_id: str, quantity: int, warehouse: str,
                      order_id: str = "", hold: int = 0) -> tuple[bool, int]:
        """Count arriving goods once per receipt; ``hold`` of them go to the order at once.

        Returns (counted now, units held for the order afterwards).
        """
        await self.ensure(sku)
        receipt = f"receipts.{encode_key(receipt_id)}"
        change: Doc = {"on_hand": quantity, "available": quantity - hold, "reserved": hold,
                       f"warehouses.{encode_key(warehouse)}": quantity}  # fmt: skip
        if hold:
            change[f"holds.{encode_key(order_id)}"] = hold
        updated = await self.collection.find_one_and_update(
            {"_id": sku, receipt: {"$exists": False}},
            {"$inc": change, "$set": {receipt: quantity}},
            return_document=AFTER,
        )
        doc = updated if updated is not None else await self.get(sku)
        held = ((doc or {}).get("holds") or {}).get(encode_key(order_id), 0) if order_id else 0
        return updated is not None, int(held)
