"""One behaviour, two adapters: aftersales' return and refund-ledger stores (ports.py) as the Mongo
adapters on the real store server and as the in-memory fakes the handler tests use (issue 6)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.aftersales.adapters import MongoRefundLedgerStore, MongoReturnStore
from services.aftersales.adapters.documents import to_doc
from services.aftersales.settings import Settings
from shared.contracts import ReturnRejected
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.paging import Page
from tests.support.fakes import FakeBus
from tests.support.fakes_aftersales import FakeRefundLedgerStore, FakeReturnStore
from tests.support.paging import instants, walk
from tests.unit.aftersales.builders import AT, a_return, an_order

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def stores(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[tuple[Any, Any, FakeBus]]:
    """(returns, ledgers, bus)"""
    bus = FakeBus()
    if request.param == "fake":
        yield FakeReturnStore(bus), FakeRefundLedgerStore(bus), bus
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"c{uuid.uuid4().hex[:8]}_aftersales"]
    returns = MongoReturnStore(db["returns"], db["counters"], Outbox(bus, Settings()))  # type: ignore[arg-type]
    await returns.create_indexes()
    yield returns, MongoRefundLedgerStore(db["refund_ledgers"]), bus
    await client.close()


def rejected(ret) -> Envelope:  # type: ignore[no-untyped-def]
    message = ReturnRejected(order_id=ret.order_id, return_id=ret.return_id, reason="test")
    return new_envelope(message, producer="aftersales")


def settle(ledger, ret) -> int:  # type: ignore[no-untyped-def]
    return ledger.settle(  # type: ignore[no-any-return]
        ret.return_id, ret.lines, order_total=ret.order_total, ordered_units=ret.ordered_units
    )


# --- returns ------------------------------------------------------------------------------------


async def test_a_return_reads_back_as_it_was_stored_with_its_history_and_inspection(stores):
    returns, _, _ = stores
    ret = a_return(an_order(), reason="box arrived broken", **{"SKU-A": 2})
    ret.inspect("pass", by="qc-li", at=AT, note="fine")

    await returns.insert(ret, [])
    loaded = await returns.load(ret.return_id)

    assert loaded is not None and to_doc(loaded.aggregate) == to_doc(ret)
    assert loaded.aggregate.history == ret.history and loaded.doc["version"] == 1
    assert await returns.load("RT-NEVER") is None


async def test_a_second_return_under_an_orders_number_or_a_known_id_loses_its_race(stores):
    returns, _, _ = stores
    order = an_order()
    first = a_return(order)
    await returns.insert(first, [])

    with pytest.raises(ConcurrencyError):
        await returns.insert(a_return(order, seq=1), [])  # another return took no. 1 of the order
    with pytest.raises(ConcurrencyError):
        await returns.insert(first, [])  # a twin request stored this very return first

    assert [r.return_id for r in await returns.for_order(order.order_id)] == [first.return_id]


async def test_a_save_from_a_stale_read_loses_its_race(stores):
    returns, _, _ = stores
    ret = a_return(an_order())
    await returns.insert(ret, [])
    one, two = await returns.load(ret.return_id), await returns.load(ret.return_id)

    one.aggregate.inspect("fail", by="qc", at=AT)
    await returns.save(one, [])

    with pytest.raises(ConcurrencyError):
        await returns.save(two, [])
    assert (await returns.load(ret.return_id)).aggregate.status.value == "rejected"


async def test_a_flush_publishes_exactly_what_its_write_staged_and_a_stale_reader_then_loses(stores):
    returns, _, bus = stores
    ret = a_return(an_order())
    left_over = rejected(ret)
    await returns.insert(ret, [left_over])  # never flushed: the relay's, not the next writer's
    loaded, stale = await returns.load(ret.return_id), await returns.load(ret.return_id)
    mine = rejected(ret)

    await returns.flush(await returns.save(loaded, [mine]))

    assert [e.message_id for e in bus.published] == [mine.message_id]
    assert list((await returns.load(ret.return_id)).doc["outbox"]) == [left_over.message_id]
    with pytest.raises(ConcurrencyError):  # it read before the clear: it cannot write the entry back
        await returns.save(stale, [])


async def test_what_a_flush_could_not_publish_stays_staged_for_the_relay(stores):
    returns, _, bus = stores
    ret = a_return(an_order())
    message = rejected(ret)
    bus.fail = True

    await returns.flush(await returns.insert(ret, [message]))

    doc = (await returns.load(ret.return_id)).doc
    assert list(doc["outbox"]) == [message.message_id] and doc["outbox_at"] is not None


async def test_a_repeated_message_is_published_without_touching_the_return(stores):
    returns, _, bus = stores
    ret = a_return(an_order())
    await returns.insert(ret, [])
    message = rejected(ret)

    await returns.publish([message])

    assert [e.message_id for e in bus.published] == [message.message_id]
    assert (await returns.load(ret.return_id)).doc["version"] == 1


async def test_an_orders_returns_list_in_their_order_and_the_newest_come_first_overall(stores):
    returns, _, _ = stores
    order = an_order()
    second, first = a_return(order, seq=2), a_return(order, seq=1)
    first.requested_at, second.requested_at = AT + timedelta(days=900), AT + timedelta(days=901)
    for ret in (second, first):
        await returns.insert(ret, [])

    listed = await returns.for_order(order.order_id)
    newest = (await returns.recent(2)).items

    assert [r.order_seq for r in listed] == [1, 2]
    assert [r.return_id for r in newest] == [second.return_id, first.return_id]



# --- pages (issue 7: every list pages with a cursor) ----------------------------------------------


async def some_returns(returns: Any) -> list[Any]:
    """Eight returns of eight orders, requested at the instants of tests.support.paging."""
    added = []
    for at in instants(AT):
        ret = a_return(an_order())
        ret.requested_at = at
        added.append(ret)
    for ret in reversed(added):
        await returns.insert(ret, [])
    return added


def ids(pages: list[list[Any]]) -> list[str]:
    return [r.return_id for page in pages for r in page]


def newest_first(added: list[Any]) -> list[str]:
    return [r.return_id for r in sorted(added, key=lambda r: (r.requested_at, r.return_id), reverse=True)]


async def test_recent_returns_page_three_at_a_time_newest_first_each_once(stores):
    returns, _, _ = stores
    added = await some_returns(returns)

    pages = await walk(lambda after: returns.recent(3, after))

    assert [len(p) for p in pages] == [3, 3, 2]
    assert ids(pages) == newest_first(added)


async def test_a_return_requested_between_pages_repeats_and_skips_none_of_the_older_ones(stores):
    returns, _, _ = stores
    added = await some_returns(returns)
    newer = a_return(an_order())
    newer.requested_at = instants(AT)[-1] + timedelta(milliseconds=300)

    async def request(after_page: int) -> None:
        if after_page == 1:
            await returns.insert(newer, [])

    pages = await walk(lambda after: returns.recent(3, after), request)

    assert ids(pages) == newest_first(added)  # the new one is before the pages already read


async def test_an_orders_returns_page_in_their_order_and_a_later_one_comes_last(stores):
    returns, _, _ = stores
    order = an_order()
    added = [a_return(order, seq=n) for n in range(1, 8)]
    for ret in reversed(added):
        await returns.insert(ret, [])
    eighth = a_return(order, seq=8)

    async def request(after_page: int) -> None:
        if after_page == 2:
            await returns.insert(eighth, [])

    pages = await walk(lambda after: returns.page_of_order(order.order_id, 3, after), request)

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [r.order_seq for p in pages for r in p] == list(range(1, 9))
    assert (await returns.page_of_order(order.order_id, 8)).next is None


async def test_a_scoped_keys_pages_hold_only_its_customers_and_are_full(stores):
    returns, _, _ = stores
    added = await some_returns(returns)
    for i, ret in enumerate(added[:5]):  # five of the eight belong to other customers
        other = replace(an_order(), customer_id=f"OTHER-{i}")
        stranger = a_return(other)
        stranger.requested_at = ret.requested_at
        await returns.insert(stranger, [])
    order = an_order()
    for seq in (1, 2, 3):
        await returns.insert(a_return(order, seq=seq), [])

    pages = await walk(lambda after: returns.recent(3, after, ("CUST-*", "VIP-9")))
    of_order = await walk(lambda after: returns.page_of_order(order.order_id, 2, after, ("X-*", "CUST-1")))

    assert [len(p) for p in pages] == [3, 3, 3, 2]  # eight plus the order's three, and no stranger
    assert ids(pages) == newest_first([*added, *[r for p in of_order for r in p]])
    assert [r.order_seq for p in of_order for r in p] == [1, 2, 3]
    assert (await returns.page_of_order(order.order_id, 5, None, ("OTHER-*",))).items == []
    assert (await returns.recent(5, None, ())) == Page([], None)  # a key bound to no customer


async def test_return_numbers_count_up_per_month(stores):
    returns, _, _ = stores
    numbers = [await returns.next_return_id(AT) for _ in range(3)]
    next_month = await returns.next_return_id(AT + timedelta(days=31))

    assert (numbers, next_month) == (["RT202405001", "RT202405002", "RT202405003"], "RT202406001")


async def test_the_fingerprint_tells_a_changed_return_from_an_unchanged_one(stores):
    returns, _, _ = stores
    ret = a_return(an_order())
    before = returns.fingerprint(ret)

    ret.inspect("pass", by="qc", at=AT)
    after = returns.fingerprint(ret)
    ret.inspect("pass", by="qc", at=AT)  # the same verdict again: nothing changes

    assert after != before and returns.fingerprint(ret) == after


# --- refund ledgers -----------------------------------------------------------------------------


async def test_an_orders_ledger_is_empty_until_its_first_refund_is_saved(stores):
    _, ledgers, _ = stores
    order = an_order(total=28_800, **{"SKU-A": 2, "SKU-B": 1})
    ret = a_return(order, **{"SKU-A": 2})

    empty = await ledgers.load(order.order_id)
    settle(empty.aggregate, ret)
    await ledgers.save(empty, [])

    assert empty.aggregate.version == 1
    stored = (await ledgers.load(order.order_id)).aggregate
    assert (stored.version, stored.refunded(), list(stored.refunds)) == (1, 20_000, [ret.return_id])


async def test_two_returns_of_one_order_settle_one_after_the_other(stores):
    _, ledgers, _ = stores
    order = an_order(total=28_800, **{"SKU-A": 2, "SKU-B": 1})
    first, last = a_return(order, **{"SKU-A": 2}), a_return(order, seq=2, **{"SKU-B": 1})
    mine, theirs = await ledgers.load(order.order_id), await ledgers.load(order.order_id)

    settle(mine.aggregate, first)
    await ledgers.save(mine, [])
    settle(theirs.aggregate, last)
    with pytest.raises(ConcurrencyError):  # both created the ledger: the second must decide again
        await ledgers.save(theirs, [])
    fresh = await ledgers.load(order.order_id)
    total = settle(fresh.aggregate, last)
    await ledgers.save(fresh, [])
    again = await ledgers.load(order.order_id)
    stale = await ledgers.load(order.order_id)
    await ledgers.save(again, [])

    assert total == 8_800  # the last unit back refunds the rest of the order total
    with pytest.raises(ConcurrencyError):
        await ledgers.save(stale, [])
    assert (await ledgers.load(order.order_id)).aggregate.refunded() == 28_800


async def test_the_ledgers_fingerprint_changes_only_when_a_refund_is_settled(stores):
    _, ledgers, _ = stores
    order = an_order()
    ret = a_return(order)
    ledger = (await ledgers.load(order.order_id)).aggregate
    before = ledgers.fingerprint(ledger)

    settle(ledger, ret)
    after = ledgers.fingerprint(ledger)
    settle(ledger, ret)  # once per return

    assert after != before and ledgers.fingerprint(ledger) == after
