"""Wiring: ``bootstrap()`` builds the aftersales app; nothing connects until the app starts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.aftersales.adapters import (
    HttpOrderLookup,
    MongoIdempotencyKeys,
    MongoRefundLedgerStore,
    MongoReturnStore,
)
from services.aftersales.api import router
from services.aftersales.consumers import subscribe
from services.aftersales.handlers import Deps
from services.aftersales.settings import Settings
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The aftersales app; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        returns = MongoReturnStore(ctx.db["returns"], ctx.db["counters"], ctx.outbox)
        await returns.create_indexes()
        ctx.outbox.watch(ctx.db["returns"])
        deps = Deps(
            settings=settings,
            returns=returns,
            ledgers=MongoRefundLedgerStore(ctx.db["refund_ledgers"]),
            orders=HttpOrderLookup(ctx.http, settings.intake_url),
            keys=MongoIdempotencyKeys(ctx.db["idempotency_keys"]),
        )
        ctx.state["deps"] = deps
        subscribe(ctx.bus, deps)

    app = create_service_app(
        settings,
        wire=wire,
        routers=[router],
        title="aftersales service",
        description="Returns (R8.3): the return saga orchestrator.",
    )
    return app
