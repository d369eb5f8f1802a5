"""Wiring: bootstrap() builds the fulfillment app; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.fulfillment.adapters import MongoSupplyOrderStore, MongoSupplyRequestStore
from services.fulfillment.api import router
from services.fulfillment.consumers import subscribe
from services.fulfillment.deps import Fulfillment
from services.fulfillment.settings import Settings
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The fulfillment service; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        supply_orders = MongoSupplyOrderStore(ctx.db["supply_orders"], ctx.outbox)
        requests = MongoSupplyRequestStore(ctx.db["supply_requests"], ctx.outbox)
        await supply_orders.create_indexes()
        ctx.outbox.watch(supply_orders.collection)
        ctx.outbox.watch(requests.collection)
        ful = Fulfillment(settings=settings, supply_orders=supply_orders, requests=requests)
        ctx.state["fulfillment"] = ful
        subscribe(ctx.bus, ful)

    return create_service_app(settings, wire=wire, routers=[router], title="fulfillment service",
                              description="Production and purchase orders for shortages (R4.2)")  # fmt: skip
