"""The inventory's repository ports: what the handlers need from a store, whatever keeps it.

The Mongo adapters (adapters/) implement them on the real store, the ``Fake...`` adapters of
tests/support/fakes_inventory.py in memory; tests/integration/inventory/test_*_store_contract.py
holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from services.inventory.domain import HoldChange, Product, Reservation, ReturnReceipt
from shared.aggregates import AggregateStore, Loaded
from shared.envelope import Envelope
from shared.paging import Key, Keyset, Page

Doc = dict[str, Any]
PRODUCT_PAGES = Keyset("products", str)  # the catalogue by SKU: the key is the last SKU given


class ReservationStore(AggregateStore[Reservation], Protocol):
    """Reservations by order id (``shared.aggregates.change`` changes them)."""

    async def insert(self, reservation: Reservation, replies: Sequence[Envelope] = ()) -> Loaded[Reservation]:
        """Create with ``replies`` staged; DuplicateKeyError when the order has one already."""
        ...


class ReceiptStore(Protocol):
    """Return receipts, written once per return with their reply staged."""

    async def insert(self, receipt: ReturnReceipt, replies: Sequence[Envelope]) -> Loaded[ReturnReceipt]:
        """Record the return; DuplicateKeyError when it was recorded before."""
        ...

    async def flush(self, saved: Loaded[ReturnReceipt]) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...


class StockStore(Protocol):
    """Atomic per-SKU stock writes, each safe to repeat (idempotent by order or receipt id)."""

    async def ensure(self, sku: str) -> None: ...

    async def get(self, sku: str) -> Doc | None: ...

    async def count(self, sku: str, warehouse: str, on_hand: int) -> Doc:
        """Set a warehouse's counted quantity; BelowReserved if it would undercut the holds."""
        ...

    async def hold(self, sku: str, order_id: str, wanted: int) -> int:
        """Hold up to ``wanted`` for the order (R4.1); a repeat returns the first decision."""
        ...

    async def release(self, sku: str, order_id: str) -> int:
        """Give back what is held for the order; 0 when nothing is."""
        ...

    async def commit(self, sku: str, order_id: str) -> int:
        """The order's held units leave on hand; a repeat returns what left the first time."""
        ...

    async def adjust(self, sku: str, order_id: str, change_id: str, wanted: int) -> HoldChange:
        """An order change: the hold becomes ``wanted`` where available (``adjusted_hold``); a
        repeat of the change returns what it did the first time and moves nothing (issue 8)."""
        ...

    async def limit(self, sku: str, order_id: str, most: int) -> int:
        """Give back what the order holds beyond ``most``; returns the hold afterwards."""
        ...

    async def receive(self, sku: str, receipt_id: str, quantity: int, warehouse: str,
                      order_id: str = "", hold: int = 0) -> tuple[bool, int]:
        """Count arriving goods once per receipt; (counted now, units held for the order after)."""
        ...


class ProductStore(Protocol):
    """The catalogue by SKU."""

    async def put(self, product: Product) -> bool: ...

    async def get(self, sku: str) -> Product | None: ...

    async def get_many(self, skus: Iterable[str]) -> dict[str, Product]: ...

    async def bundles_containing(self, sku: str) -> list[str]:
        """The SKUs of the bundles with ``sku`` among their components, in SKU order (R1.9)."""
        ...

    async def page(self, limit: int, after: Key | None = None) -> Page[Product]:
        """The catalogue by SKU, ``limit`` at a time, after the key (SKU,) ``after``."""
        ...
