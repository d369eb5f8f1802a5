"""Billing's start-up migration from the pre-issue-5 layout (one customer document holding every
order's entry and payment) to per-order accounts and customer marks, on the real store server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import MongoCustomerStore, MongoOrderAccountStore
from services.billing.adapters.migrate import migrate
from services.billing.domain import Mark
from services.billing.settings import Settings
from shared.outbox import Outbox
from tests.support.fakes import FakeBus

pytestmark = pytest.mark.integration
AT = datetime(2026, 5, 6, tzinfo=UTC)


@pytest.fixture
async def db(mongo_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client[f"m{uuid.uuid4().hex[:8]}_billing"]
    await client.close()


def old_customer() -> dict[str, Any]:
    """A customer as billing wrote it before issue 5: held, invoiced, released and paid orders."""
    return {
        "_id": "CUST-OLD", "name": "Shanghai Lamp Co., Ltd.", "payment_terms": "credit",
        "credit_limit": 100_000, "exposure": 50_000, "version": 7,
        "orders": {
            "SO%2E1": {"state": "held", "requested": 30_000, "held": 21_000, "released": 0, "receivable": 0,
                       "paid": 9_000, "forced": False, "invoice_id": None, "credit_notes": {}},
            "SO-2": {"state": "invoiced", "requested": 29_000, "held": 0, "released": 0, "receivable": 29_000,
                     "paid": 0, "forced": False, "invoice_id": "INV202605001", "credit_notes": {}},
            "SO-3": {"state": "released", "requested": 5_000, "held": 0, "released": 5_000, "receivable": 0,
                     "paid": 0, "forced": False, "invoice_id": None, "credit_notes": {}},
        },
        "payments": {"DEP-1": {"reference": "DEP-1", "order_id": "SO.1", "amount": 9_000, "received_at": AT}},
    }  # fmt: skip


async def test_old_customers_move_to_accounts_and_marks_once_with_the_same_exposure(db):
    await db["customers"].insert_one(old_customer())
    await db["invoices"].insert_one({"_id": "INV202605001", "key": "invoice:SO-2", "total": 29_000})
    await db["order_credit"].insert_one({"_id": "SO-9", "customer_id": None, "state": "released"})
    outbox = Outbox(FakeBus(), Settings())  # type: ignore[arg-type]
    customers, accounts = (
        MongoCustomerStore(db["customers"], outbox),
        MongoOrderAccountStore(db["accounts"], outbox),
    )

    first = await migrate(db["customers"], db["accounts"], db["invoices"], db["order_credit"])
    again = await migrate(db["customers"], db["accounts"], db["invoices"], db["order_credit"])

    assert (first, again) == (1, 0)
    customer = await customers.get("CUST-OLD")
    assert (customer.held, customer.receivable, customer.exposure) == (21_000, 29_000, 50_000)
    assert (await customers.mark_of("CUST-OLD", "SO.1"))[1] == Mark(21_000, 0, 1)
    held = (await accounts.load("SO.1")).aggregate
    assert (held.state, held.paid_total, held.held) == ("held", 9_000, 21_000)
    assert (await accounts.load("SO-2")).aggregate.receivable == 29_000
    assert (await accounts.load("SO-3")).aggregate.closed == "released"
    assert (await accounts.load("SO-9")).aggregate.state == "released"  # the old tombstone
    raw = await db["customers"].find_one({"_id": "CUST-OLD"})
    assert "orders" not in raw and raw["legacy"]["orders"]["SO-2"]["receivable"] == 29_000
