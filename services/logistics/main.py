"""Logistics' composition root: ``bootstrap()`` builds the app; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.logistics import consumers
from services.logistics.adapters import HttpConsigneePhones, MongoShipmentStore
from services.logistics.api import router
from services.logistics.deps import Logistics
from services.logistics.settings import Settings
from shared.notices import NOTICES_COLLECTION, MongoNotices
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The logistics app; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        shipments = MongoShipmentStore(ctx.db["shipments"], ctx.outbox)
        await shipments.create_indexes()
        await shipments.forget_phones()
        ctx.outbox.watch(shipments.collection)
        phones = HttpConsigneePhones(ctx.resilient_http, settings.intake_url)
        notices = MongoNotices(ctx.db[NOTICES_COLLECTION])
        await notices.create_indexes()
        logistics = Logistics(settings=settings, shipments=shipments, phones=phones, notices=notices)
        consumers.subscribe(ctx.bus, logistics)
        ctx.state["logistics"] = logistics

    return create_service_app(
        settings,
        wire=wire,
        routers=[router],
        title="logistics service",
        description="Carrier booking (R5.1), tracking and carrier events (R5.2-R5.4).",
    )
