"""Wiring: bootstrap() builds the intake app; nothing connects at import time."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from services.intake.adapters import (
    HttpCatalogue,
    HttpCustomers,
    LastKnown,
    MongoIdempotencyKeys,
    MongoOrderNumbers,
    MongoOrderStore,
)
from services.intake.api import router
from services.intake.consumers import subscribe
from services.intake.deps import Intake
from services.intake.settings import Settings
from shared.access.admin import router as keys_router
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The intake service; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        db, door = ctx.db, ctx.resilient_http
        intake = Intake(
            settings=settings,
            orders=MongoOrderStore(db["orders"], ctx.outbox),
            numbers=MongoOrderNumbers(db["order_numbers"]),
            keys=MongoIdempotencyKeys(db["idempotency_keys"]),
            catalogue=HttpCatalogue(door, settings.inventory_url, LastKnown(settings.door_fallback_s)),
            customers=HttpCustomers(door, settings.billing_url, LastKnown(settings.door_fallback_s)),
            timers=ctx.timers,
        )
        await intake.orders.create_indexes()
        ctx.outbox.watch(intake.orders.collection)
        ctx.state["intake"] = intake
        subscribe(ctx.bus, intake)

    async def door_ready(ctx: ServiceContext) -> dict[str, bool]:
        """The door's dependencies, probed through the door's own pool (a stuck pool is not ready)."""
        within_s, http = settings.http_probe_timeout_s, ctx.resilient_http
        inventory, billing = await asyncio.gather(
            http.reachable(f"{settings.inventory_url.rstrip('/')}/health", within_s=within_s),
            http.reachable(f"{settings.billing_url.rstrip('/')}/health", within_s=within_s),
        )
        return {"inventory": inventory, "billing": billing}

    app = create_service_app(
        settings,
        wire=wire,
        ready_checks=door_ready,
        routers=[router, keys_router],
        title="intake service",
        description="Orders from every channel (R1) and the order saga (R2-R7)",
    )
    return app
