"""What the inventory's handlers and routes depend on, built once by bootstrap()."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from services.inventory.adapters import (
    MongoProductStore,
    MongoReservationStore,
    MongoReturnReceiptStore,
    MongoStockStore,
)
from services.inventory.settings import Settings
from shared.errors import ConcurrencyError
from shared.outbox import Outbox


@dataclass
class Inventory:
    """The handlers' dependencies, built once by bootstrap()."""

    settings: Settings
    products: MongoProductStore
    stock: MongoStockStore
    reservations: MongoReservationStore
    receipts: MongoReturnReceiptStore
    outbox: Outbox

    async def retrying(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` again from a fresh read while a concurrent writer wins the document."""
        for _ in range(self.settings.write_attempts):
            try:
                return await step()
            except (ConcurrencyError, DuplicateKeyError):
                continue
        raise ConcurrencyError("reservation kept changing; the bus will retry later")

    async def sweep(self, order_id: str, skus: Iterable[str]) -> dict[str, int]:
        """Release whatever the order still holds on these SKUs (idempotent)."""
        released = {sku: await self.stock.release(sku, order_id) for sku in dict.fromkeys(skus)}
        return {sku: units for sku, units in released.items() if units}
