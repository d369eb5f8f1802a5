"""Wiring: bootstrap() builds the inventory app; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.inventory.adapters import (
    MongoProductStore,
    MongoReservationStore,
    MongoReturnReceiptStore,
    MongoStockStore,
)
from services.inventory.api import router
from services.inventory.consumers import subscribe
from services.inventory.deps import Inventory
from services.inventory.settings import Settings
from shared.notices import NOTICES_COLLECTION, MongoNotices
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The inventory service; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        db = ctx.db
        inv = Inventory(
            settings=settings,
            products=MongoProductStore(db["products"]),
            stock=MongoStockStore(db["stock"], settings.write_attempts),
            reservations=MongoReservationStore(db["reservations"], ctx.outbox),
            receipts=MongoReturnReceiptStore(db["return_receipts"], ctx.outbox),
            notices=(notices := MongoNotices(db[NOTICES_COLLECTION])),
        )
        await notices.create_indexes()
        ctx.outbox.watch(db["reservations"])
        ctx.outbox.watch(db["return_receipts"])
        ctx.state["inventory"] = inv
        subscribe(ctx.bus, inv)

    return create_service_app(settings, wire=wire, routers=[router], title="inventory service",
                              description="Catalogue, stock per warehouse, reservations per order (R4.1)")
