"""One behaviour, two adapters: the customer store (terms, running totals moved by per-order marks)
and the order-account store (services/billing/ports.py), as the Mongo adapters on the real store
server and the in-memory fakes the handler tests use (issues 5 and 6)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.billing.adapters import MongoCustomerStore, MongoOrderAccountStore
from services.billing.adapters.mongo_accounts import to_doc
from services.billing.domain import NO_MARK, Customer, Mark, OrderAccount, Payment
from services.billing.settings import Settings
from shared import contracts as c
from shared.envelope import new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import FakeCustomerStore, FakeOrderAccountStore

pytestmark = pytest.mark.integration
AT = datetime(2026, 5, 6, tzinfo=UTC)


@pytest.fixture(params=["mongo", "fake"])
async def stores(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, Any, FakeBus]]:
    bus = FakeBus()
    if request.param == "fake":
        yield FakeCustomerStore(bus), FakeOrderAccountStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_billing"]
    outbox = Outbox(bus, Settings())  # type: ignore[arg-type]
    customers, accounts = (
        MongoCustomerStore(db["customers"], outbox),
        MongoOrderAccountStore(db["accounts"], outbox),
    )
    await customers.create_indexes()
    await accounts.create_indexes()
    yield customers, accounts, bus
    await client.close()


def a_customer(limit: int = 100_000) -> Customer:
    return Customer(f"CUST-{uuid.uuid4().hex[:8]}", "Shanghai Lamp Co., Ltd.", "credit", limit)


def released(order_id: str) -> Any:
    return new_envelope(c.CreditReleased(order_id=order_id, amount=0), producer="billing")


# --- customers ---------------------------------------------------------------------------------


async def test_a_customer_reads_back_as_stored_and_a_second_add_is_a_duplicate_key(stores):
    customers, _, _ = stores
    customer = a_customer()
    customer.taxpayer, customer.tax_number = "general", "91310000MA1FL8XQ30"

    await customers.add(customer)

    assert await customers.get(customer.customer_id) == Customer(
        customer.customer_id, customer.name, "credit", 100_000, "general", "91310000MA1FL8XQ30", version=1
    )
    assert await customers.get("CUST-nobody") is None
    with pytest.raises(DuplicateKeyError):
        await customers.add(customer)


async def test_new_terms_are_written_and_the_totals_are_left_as_they_are(stores):
    customers, _, _ = stores
    customer = a_customer()
    await customers.add(customer)
    await customers.move(customer.customer_id, "SO-1", NO_MARK, Mark(30_000, 0, 1))

    customer.update_terms("Lamp Co.", "monthly", 50_000, "general", "X1")
    stored = await customers.set_terms(customer)

    assert (stored.name, stored.payment_terms, stored.credit_limit, stored.taxpayer) == (
        "Lamp Co.", "monthly", 50_000, "general",
    )  # fmt: skip
    assert (stored.held, stored.exposure) == (30_000, 30_000)


async def test_a_mark_moves_the_totals_by_its_difference_only_from_the_mark_it_was_read_at(stores):
    customers, _, _ = stores
    customer = a_customer()
    await customers.add(customer)
    cid = customer.customer_id

    held = await customers.move(cid, "SO.1$x", NO_MARK, Mark(30_000, 0, 1))
    again = await customers.move(cid, "SO.1$x", NO_MARK, Mark(30_000, 0, 1))  # a late copy: already moved
    invoiced = await customers.move(cid, "SO.1$x", Mark(30_000, 0, 1), Mark(0, 25_000, 2))
    stale = await customers.move(cid, "SO.1$x", Mark(30_000, 0, 1), Mark(0, 0, 3))

    assert (held.held, held.exposure, again, stale) == (30_000, 30_000, None, None)
    assert (invoiced.held, invoiced.receivable, invoiced.exposure) == (0, 25_000, 25_000)
    found, mark = await customers.mark_of(cid, "SO.1$x")
    assert (found.exposure, mark) == (25_000, Mark(0, 25_000, 2))
    assert (await customers.mark_of(cid, "SO-other"))[1] == NO_MARK
    assert await customers.mark_of("CUST-nobody", "SO-1") is None


async def test_a_credit_check_moves_a_mark_only_within_the_limit_it_read(stores):
    customers, _, _ = stores
    customer = a_customer(limit=100_000)
    await customers.add(customer)
    cid = customer.customer_id
    await customers.move(cid, "SO-1", NO_MARK, Mark(60_000, 0, 1), within=100_000)

    over = await customers.move(cid, "SO-2", NO_MARK, Mark(50_000, 0, 1), within=100_000)
    stale_limit = await customers.move(cid, "SO-2", NO_MARK, Mark(10_000, 0, 1), within=200_000)
    fits = await customers.move(cid, "SO-2", NO_MARK, Mark(40_000, 0, 1), within=100_000)

    assert (over, stale_limit, fits.exposure) == (None, None, 100_000)


async def test_concurrent_checks_of_one_customer_never_pass_its_limit(stores):
    customers, _, _ = stores
    customer = a_customer(limit=100_000)
    await customers.add(customer)

    moved = await asyncio.gather(*(
        customers.move(customer.customer_id, f"SO-{i}", NO_MARK, Mark(20_000, 0, 1), within=100_000)
        for i in range(12)
    ))  # fmt: skip

    assert sum(m is not None for m in moved) == 5
    assert (await customers.get(customer.customer_id)).exposure == 100_000


# --- order accounts ----------------------------------------------------------------------------


def an_account(customer_id: str = "CUST-A") -> OrderAccount:
    account = OrderAccount(f"SO-{uuid.uuid4().hex[:8]}", customer_id, payment_terms="deposit", total=30_000)
    account.start_check(30_000, force=False)
    account.settle_check(True, 30_000, 100_000)
    return account


async def test_an_account_reads_back_as_stored_with_ids_that_need_encoding(stores):
    _, accounts, _ = stores
    account = an_account()
    account.add_payment(Payment("TT-2024.05.06$1", account.order_id, 1_000, AT, "CNY", "finance-1"))
    account.refund_all("cancelled", AT)

    await accounts.add(account)
    loaded = await accounts.load(account.order_id)

    assert loaded is not None and to_doc(loaded.aggregate) == to_doc(account)
    assert loaded.aggregate.payments["TT-2024.05.06$1"].by == "finance-1"
    assert await accounts.load("SO-nobody") is None
    with pytest.raises(DuplicateKeyError):
        await accounts.add(account)


async def test_a_save_from_a_stale_read_loses_its_race(stores):
    _, accounts, _ = stores
    account = an_account()
    await accounts.add(account)
    first, second = await accounts.load(account.order_id), await accounts.load(account.order_id)

    await accounts.save(first, [])

    with pytest.raises(ConcurrencyError):
        await accounts.save(second, [])


async def test_a_flush_publishes_exactly_what_its_save_staged(stores):
    _, accounts, bus = stores
    account = an_account()
    await accounts.add(account)
    left_over = await accounts.save(await accounts.load(account.order_id), [released("SO-1")])
    mine = released("SO-2")

    await accounts.flush(await accounts.save(await accounts.load(account.order_id), [mine]))

    assert [e.message_id for e in bus.published] == [mine.message_id]  # not the left-over: the relay's
    assert list((await accounts.load(account.order_id)).doc["outbox"]) == list(left_over.doc["outbox"])


async def test_a_customers_open_orders_are_those_that_count_in_its_exposure(stores):
    _, accounts, _ = stores
    customer_id = f"CUST-{uuid.uuid4().hex[:8]}"
    open_one, released_one = an_account(customer_id), an_account(customer_id)
    released_one.release()
    for account in (open_one, released_one, an_account("CUST-OTHER")):
        await accounts.add(account)

    assert [a.order_id for a in await accounts.open_for_customer(customer_id, 10)] == [open_one.order_id]
    assert await accounts.open_for_customer(customer_id, 0) == []


async def test_the_fingerprint_changes_with_what_billing_stores_and_nothing_else(stores):
    _, accounts, _ = stores
    account = an_account()
    before = accounts.fingerprint(account)

    account.release()
    released_once = accounts.fingerprint(account)
    account.release()  # a duplicate: nothing to write

    assert released_once != before and accounts.fingerprint(account) == released_once
