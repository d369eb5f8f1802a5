"""Billing's composition root: ``bootstrap()`` builds the app; nothing connects at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.billing import api_money, consumers
from services.billing.adapters import (
    MongoCustomerStore,
    MongoInvoiceStore,
    MongoOrderAccountStore,
    MongoPaymentStore,
    MongoRefundStore,
)
from services.billing.adapters.migrate import migrate
from services.billing.api import router
from services.billing.deps import Billing
from services.billing.settings import Settings
from shared.notices import NOTICES_COLLECTION, MongoNotices
from shared.service import ServiceContext, create_service_app
from shared.settings import settings_for


def bootstrap(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """The billing app; ``overrides`` replace settings fields (shared.settings.settings_for)."""
    settings = settings_for(Settings, settings, overrides)

    async def wire(ctx: ServiceContext) -> None:
        db = ctx.db
        customers = MongoCustomerStore(db["customers"], ctx.outbox)
        accounts = MongoOrderAccountStore(db["order_accounts"], ctx.outbox)
        invoices = MongoInvoiceStore(db["invoices"], db["counters"], ctx.outbox)
        payments = MongoPaymentStore(db["payments"])
        refunds = MongoRefundStore(db["refunds"])
        notices = MongoNotices(db[NOTICES_COLLECTION])
        for store in (customers, accounts, invoices, payments, refunds, notices):
            await store.create_indexes()
        # Customers written before issue 5 (every order inside the customer): moved once.
        await migrate(db["customers"], db["order_accounts"], db["invoices"], db["order_credit"])
        # Every collection whose documents carry staged replies is watched by the relay (customers
        # and order_credit did before issue 5: what a crash left there is still published).
        for name in ("order_accounts", "invoices", "customers", "order_credit"):
            ctx.outbox.watch(db[name])
        billing = Billing(
            settings,
            customers=customers,
            accounts=accounts,
            invoices=invoices,
            payments=payments,
            refunds=refunds,
            notices=notices,
        )
        consumers.subscribe(ctx.bus, billing)
        ctx.state["billing"] = billing

    return create_service_app(
        settings,
        wire=wire,
        routers=[router, api_money.router],
        title="billing service",
        description="Customers' credit (R3), payments, refunds (R3.3, R7.1), invoices, credit notes (R6).",
    )
