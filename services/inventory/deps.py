"""What the inventory's handlers and routes depend on, built once by bootstrap()."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.inventory.ports import ProductStore, ReceiptStore, ReservationStore, StockStore
from services.inventory.settings import Settings
from shared.notices import FakeNotices, Notices


@dataclass
class Inventory:
    """The handlers' dependencies: Mongo adapters in the service, fakes in handler tests."""

    settings: Settings
    products: ProductStore
    stock: StockStore
    reservations: ReservationStore
    receipts: ReceiptStore
    # Picking notices of confirmed orders (R2.5): what the warehouse will pick, and how urgent.
    notices: Notices = field(default_factory=FakeNotices)

    async def sweep(self, order_id: str, skus: Iterable[str]) -> dict[str, int]:
        """Release whatever the order still holds on these SKUs (idempotent)."""
        released = {sku: await self.stock.release(sku, order_id) for sku in dict.fromkeys(skus)}
        return {sku: units for sku, units in released.items() if units}
