"""One behaviour, two adapters: finance's refund records (R7.1, R6.2), as the Mongo adapter on the
real store server and the in-memory fake the handler tests use (issue 5)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import MongoRefundStore
from services.billing.domain import RefundRecord
from tests.support.fakes_billing import FakeRefundStore
from tests.support.paging import walk

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["mongo", "fake"])
async def refunds(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeRefundStore()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    store = MongoRefundStore(client[f"r{uuid.uuid4().hex[:8]}_billing"]["refunds"])
    await store.create_indexes()
    yield store
    await client.close()


def a_refund(order_id: str = "", customer_id: str = "CUST-A", minutes: int = 0) -> RefundRecord:
    return RefundRecord(f"RF{uuid.uuid4().hex[:12].upper()}", order_id or f"SO-{uuid.uuid4().hex[:8]}",
                        customer_id, "TT-1", -9_000, "CNY", "order cancelled",
                        AT + timedelta(minutes=minutes))  # fmt: skip


async def test_a_refund_is_recorded_once_and_reads_back(refunds):
    refund = a_refund()

    await refunds.add([refund])
    await refunds.add(
        [replace(refund, amount=-1), a_refund(refund.order_id, minutes=1)]
    )  # a repeat adds nothing

    assert await refunds.get(refund.refund_id) == refund
    assert [r.amount for r in await refunds.for_order(refund.order_id)] == [-9_000, -9_000]
    assert await refunds.get("RF-nobody") is None


async def test_a_refund_is_paid_out_once_with_who_and_when(refunds):
    refund = a_refund()
    await refunds.add([refund])

    paid = await refunds.pay_out(refund.refund_id, "finance-1", AT)
    again = await refunds.pay_out(refund.refund_id, "finance-2", AT + timedelta(hours=1))

    assert (paid.status, paid.paid_out_by, paid.paid_out_at) == ("paid_out", "finance-1", AT)
    assert again == paid and await refunds.pay_out("RF-nobody", "x", AT) is None


async def test_refunds_page_oldest_first_by_order_and_status_and_only_a_keys_customers(refunds):
    customer_id = f"CUST-{uuid.uuid4().hex[:8]}"
    mine = [a_refund(customer_id=customer_id, minutes=i) for i in range(5)]
    await refunds.add([*reversed(mine), a_refund(customer_id="OTHER-1")])
    await refunds.pay_out(mine[0].refund_id, "finance-1", AT)

    owed = await walk(lambda after: refunds.page(order_id=None, status="owed", limit=2, after=after,
                                                 customers=(customer_id,)))  # fmt: skip
    of_order = await refunds.page(order_id=mine[1].order_id, status=None, limit=5)
    none = await refunds.page(order_id=None, status="owed", limit=5, customers=())

    assert [r.refund_id for page in owed for r in page] == [r.refund_id for r in mine[1:]]
    assert [r.refund_id for r in of_order.items] == [mine[1].refund_id]
    assert none.items == []
