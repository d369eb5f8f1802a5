"""Billing's composition root: ``bootstrap()`` builds the app; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.billing import consumers
from services.billing.adapters import (
    MongoCustomerStore,
    MongoInvoiceStore,
    MongoOrderLinkStore,
    MongoPaymentStore,
)
from services.billing.api import router
from services.billing.deps import Billing
from services.billing.settings import Settings
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The billing app; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        db = ctx.db
        customers = MongoCustomerStore(db["customers"], ctx.outbox)
        invoices = MongoInvoiceStore(db["invoices"], db["counters"], ctx.outbox)
        payments = MongoPaymentStore(db["payments"])
        for store in (customers, invoices, payments):
            await store.create_indexes()
        # Every collection whose documents carry staged replies is watched by the relay.
        for name in ("customers", "order_credit", "invoices"):
            ctx.outbox.watch(db[name])
        links = MongoOrderLinkStore(db["order_credit"])
        billing = Billing(settings, customers=customers, links=links, invoices=invoices, payments=payments)
        consumers.subscribe(ctx.bus, billing)
        ctx.state["billing"] = billing

    return create_service_app(
        settings,
        wire=wire,
        routers=[router],
        title="billing service",
        description="Customers' credit (R3), invoices and credit notes (R6).",
    )
