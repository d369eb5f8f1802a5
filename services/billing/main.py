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
from services.billing.handlers import Billing
from services.billing.settings import Settings
from shared.service import ServiceContext, create_service_app


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The billing app; ``overrides`` replace settings fields (tests, local runs)."""
    settings = settings or Settings(**overrides)

    async def wire(ctx: ServiceContext) -> None:
        billing = Billing(
            settings=settings,
            customers=MongoCustomerStore(ctx.db["customers"]),
            links=MongoOrderLinkStore(ctx.db["order_credit"]),
            invoices=MongoInvoiceStore(ctx.db["invoices"], ctx.db["counters"]),
            payments=MongoPaymentStore(ctx.db["payments"]),
            outbox=ctx.outbox,
        )
        for store in (billing.customers, billing.invoices, billing.payments):
            await store.create_indexes()
        # Every collection whose documents carry staged replies is watched by the relay.
        for collection in (
            billing.customers.collection,
            billing.links.collection,
            billing.invoices.collection,
        ):
            ctx.outbox.watch(collection)
        consumers.subscribe(ctx.bus, billing)
        ctx.state["billing"] = billing

    return create_service_app(
        settings,
        wire=wire,
        routers=[router],
        title="billing service",
        description="Customers' credit (R3), invoices and credit notes (R6).",
    )
