"""The two stock writes of an order change (issue 8: ``StockStore.adjust`` and ``limit``) on the
in-memory fake, until they join ``FakeStockStore`` in tests/support/fakes_inventory.py (kept here
because this change may not touch tests/support). The same documents as ``MongoStockStore``
(``holds.<order>``, ``adjustments.<order>``, stored counters); each write is one atomic step.
tests/integration/inventory/test_stock_adjust_contract.py holds it to the Mongo adapter."""

from __future__ import annotations

from typing import Any

from services.inventory.deps import Inventory
from services.inventory.domain import HoldChange, adjusted_hold
from shared.keys import encode_key
from tests.support.fakes import FakeBus
from tests.support.fakes_inventory import FakeStockStore, fake_inventory


class AdjustingFakeStockStore(FakeStockStore):
    """``FakeStockStore`` with the order change's writes."""

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


def adjusting_inventory(bus: FakeBus, **settings: Any) -> Inventory:
    """``fake_inventory`` whose stock store makes an order change's writes too."""
    inv = fake_inventory(bus, **settings)
    inv.stock = AdjustingFakeStockStore()
    return inv
