"""An order change's credit (issue 8, R7.2, R4.2, R3.1) on the real store and broker: the same
behaviour on the Mongo adapters as on the in-memory fakes the handler tests use - concurrent
increases of one customer's orders never pass its limit, a change is answered once, an account
written before order changes reads as having none - and AdjustCredit end to end over the broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.billing.adapters import (
    MongoCustomerStore,
    MongoInvoiceStore,
    MongoOrderAccountStore,
    MongoPaymentStore,
    MongoRefundStore,
)
from services.billing.changes import adjust_credit
from services.billing.deps import Billing
from services.billing.domain import Customer
from services.billing.handlers import release_credit, reserve_credit
from services.billing.settings import Settings
from shared import contracts as c
from shared.envelope import Envelope, new_envelope, reply_id
from shared.outbox import Outbox
from tests.integration.billing.builders import a_customer, credit_of, uid
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import fake_billing

pytestmark = pytest.mark.integration


OLDER = ("changes", "adjusting", "adjusting_from")  # what an account written before order changes lacks
Forget = Callable[[str], Awaitable[None]]  # make an order's stored account one written before them


@pytest.fixture(params=["mongo", "fake"])
async def deps(
    request: pytest.FixtureRequest, mongo_url: str
) -> AsyncIterator[tuple[Billing, FakeBus, Forget]]:
    """A ``Billing`` on the Mongo adapters (a fresh database) or on the fakes."""
    bus = FakeBus()
    if request.param == "fake":
        billing = fake_billing(bus)

        async def forget_in_memory(order_id: str) -> None:
            doc = billing.accounts.docs[order_id]  # type: ignore[attr-defined]
            for name in OLDER:
                doc.pop(name)

        yield billing, bus, forget_in_memory
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"a{uuid.uuid4().hex[:8]}_billing"]
    settings = Settings()
    outbox = Outbox(bus, settings)  # type: ignore[arg-type]
    billing = Billing(
        settings=settings,
        customers=MongoCustomerStore(db["customers"], outbox),
        accounts=MongoOrderAccountStore(db["order_accounts"], outbox),
        invoices=MongoInvoiceStore(db["invoices"], db["counters"], outbox),
        payments=MongoPaymentStore(db["payments"]),
        refunds=MongoRefundStore(db["refunds"]),
    )

    async def forget_in_store(order_id: str) -> None:
        await db["order_accounts"].update_one({"_id": order_id}, {"$unset": dict.fromkeys(OLDER, "")})
        billing.accounts.written.drop(order_id)  # type: ignore[attr-defined]  # its memory of the write

    yield billing, bus, forget_in_store
    await client.close()


def delivered(message: c.Message) -> Envelope:
    return new_envelope(message, producer="intake")


async def run(handler, env: Envelope, billing: Billing) -> None:  # type: ignore[no-untyped-def]
    await handler(env.message(), env, billing)


async def customer_with_orders(billing: Billing, limit: int, amounts: list[int]) -> tuple[str, list[str]]:
    customer_id, orders = uid("CUST"), [uid("SO") for _ in amounts]
    await billing.customers.add(Customer(customer_id, "Shanghai Lamp Co., Ltd.", "credit", limit))
    for order_id, amount in zip(orders, amounts, strict=True):
        await run(reserve_credit, delivered(c.ReserveCredit(order_id=order_id, customer_id=customer_id,
                                                            amount=amount)), billing)  # fmt: skip
    return customer_id, orders


def adjust(order_id: str, customer_id: str, amount: int) -> Envelope:
    return delivered(
        c.AdjustCredit(order_id=order_id, change_id=uid("CH"), customer_id=customer_id, amount=amount)
    )


async def exposure_of(billing: Billing, customer_id: str) -> int:
    customer = await billing.customers.get(customer_id)
    assert customer is not None
    return customer.exposure


async def test_concurrent_increases_of_one_customers_orders_never_pass_its_limit(deps):
    billing, bus, _ = deps
    customer_id, orders = await customer_with_orders(billing, 100_000, [5_000] * 10)  # 50,000 held
    bus.published.clear()

    await asyncio.gather(*(run(adjust_credit, adjust(o, customer_id, 15_000), billing) for o in orders))

    answers = {e.correlation_id: e.payload["accepted"] for e in bus.published if e.type == "CreditAdjusted"}
    assert len(answers) == 10 and sum(answers.values()) == 5  # 5 x 10,000 more fits, the sixth does not
    assert await exposure_of(billing, customer_id) == 100_000
    for order_id, accepted in answers.items():
        loaded = await billing.accounts.load(order_id)
        assert loaded is not None and loaded.aggregate.held == (15_000 if accepted else 5_000)
        assert loaded.aggregate.state == "held" and loaded.aggregate.adjusting == ""


async def test_a_change_is_answered_once_and_again_under_the_same_id_and_a_release_gives_back_its_hold(deps):
    billing, bus, _ = deps
    customer_id, [order_id] = await customer_with_orders(billing, 100_000, [30_000])
    bus.published.clear()
    increase, decrease = adjust(order_id, customer_id, 70_000), adjust(order_id, customer_id, 40_000)

    for command in (increase, increase, decrease, decrease):
        await run(adjust_credit, command, billing)

    replies = [e for e in bus.published if e.type == "CreditAdjusted"]
    assert [e.message_id for e in replies] == [reply_id(increase, replies[0].message())] * 2 + [
        reply_id(decrease, replies[2].message())
    ] * 2
    assert [(e.payload["amount"], e.payload["accepted"]) for e in replies] == [(70_000, True)] * 2 + [
        (40_000, True)
    ] * 2
    assert await exposure_of(billing, customer_id) == 40_000

    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)

    assert bus.published[-1].payload["amount"] == 40_000 and await exposure_of(billing, customer_id) == 0


async def test_an_account_written_before_order_changes_reads_with_none_and_takes_one(deps):
    billing, _, forget = deps
    customer_id, [order_id] = await customer_with_orders(billing, 100_000, [30_000])
    await forget(order_id)

    old = await billing.accounts.load(order_id)
    await run(adjust_credit, adjust(order_id, customer_id, 20_000), billing)

    assert old is not None and (old.aggregate.changes, old.aggregate.adjusting) == ({}, "")
    new = await billing.accounts.load(order_id)
    assert new is not None and len(new.aggregate.changes) == 1
    assert await exposure_of(billing, customer_id) == 20_000


# --- over the broker, against the billing process -------------------------------------------------


async def test_adjust_credit_over_the_broker_is_answered_and_a_redelivery_counts_once(http, probe):
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")
    await probe.publish(c.ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))
    await probe.wait_for("CreditReserved", order_id)
    change = c.AdjustCredit(order_id=order_id, change_id=uid("CH"), customer_id=customer_id, amount=80_000)

    command = await probe.publish(change)
    await probe.publish(change, envelope=command)  # the very same envelope, redelivered
    over = await probe.publish(
        c.AdjustCredit(order_id=order_id, change_id=uid("CH"), customer_id=customer_id, amount=120_000)
    )

    replies = await probe.wait_for("CreditAdjusted", order_id, count=3)
    mine = [e for e in replies if e.causation_id == command.message_id]
    assert len(mine) == 2 and len({e.message_id for e in mine}) == 1 and mine[0].payload["accepted"]
    [refused] = [e for e in replies if e.causation_id == over.message_id]
    assert (
        not refused.payload["accepted"]
        and "increase 40000 exceeds credit limit 100000" in refused.payload["reason"]
    )
    assert (await credit_of(http, customer_id))["exposure"] == 80_000
