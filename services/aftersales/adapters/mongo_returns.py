"""Returns in MongoDB: one document per return holding its saga state, history and outbox.

Every change replaces the whole document under optimistic concurrency (``version``) with the
messages it causes staged in the same write (shared.store.stage); ``flush`` publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.aftersales.domain import Return, counter_key, format_return_id
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.paging import Key, Order, Page, both, find_page, visible_to
from shared.store import insert_doc, stage

from .documents import Doc, from_doc, to_doc

IN_ORDER = Order("order_seq")  # one order's returns: 1, 2, 3...
NEWEST_FIRST = Order("requested_at", -1)


def changed_doc(loaded: Loaded[Return], envelopes: Sequence[Envelope]) -> Doc:
    """The document read, with the return's fields and the new messages (earlier entries stay)."""
    return stage({**loaded.doc, **to_doc(loaded.aggregate)}, envelopes)


class MongoReturnStore:
    """Aftersales' ``ReturnStore`` (services/aftersales/ports.py) on MongoDB."""

    def __init__(self, returns: AsyncCollection[Doc], counters: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.returns = returns
        self.counters = counters
        self.outbox = outbox

    async def create_indexes(self) -> None:
        # One order's returns are numbered 1, 2, 3...: two requests racing for the same order's
        # remaining units cannot both be stored (the loser re-checks against the winner).
        await self.returns.create_index([("order_id", ASCENDING), ("order_seq", ASCENDING)], unique=True)
        await self.returns.create_index([("requested_at", DESCENDING)])

    async def next_return_id(self, at: datetime) -> str:
        """RT + yyyymm + serial from a per-month counter (atomic $inc: serials never collide)."""
        counter = await self.counters.find_one_and_update(
            {"_id": counter_key(at)}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter is not None  # upsert with ReturnDocument.AFTER always returns the document
        return format_return_id(at, int(counter["seq"]))

    async def insert(self, ret: Return, envelopes: Sequence[Envelope]) -> Loaded[Return]:
        try:
            doc = await insert_doc(self.returns, stage(to_doc(ret), envelopes))
        except DuplicateKeyError as exc:
            raise ConcurrencyError(f"order {ret.order_id} got return no. {ret.order_seq} meanwhile") from exc
        ret.version = doc["version"]
        return Loaded(ret, doc)

    async def load(self, key: str) -> Loaded[Return] | None:
        doc = await self.returns.find_one({"_id": key})
        return Loaded(from_doc(doc), doc) if doc else None

    async def save(self, loaded: Loaded[Return], envelopes: Sequence[Envelope]) -> Loaded[Return]:
        """Replace the return if unchanged since read; else ConcurrencyError."""
        doc = await self.outbox.replace(self.returns, changed_doc(loaded, envelopes))
        loaded.aggregate.version = doc["version"]
        return Loaded(loaded.aggregate, doc)

    async def flush(self, saved: Loaded[Return]) -> None:
        """Publish what that write staged (the relay publishes what a crash left behind)."""
        await self.outbox.flush_deferred(self.returns, saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))

    def fingerprint(self, aggregate: Return) -> Doc:
        return to_doc(aggregate)

    async def for_order(self, order_id: str) -> list[Return]:
        cursor = self.returns.find({"order_id": order_id}).sort("order_seq", ASCENDING)
        return [from_doc(doc) async for doc in cursor]

    async def page_of_order(
        self, order_id: str, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        query = both({"order_id": order_id}, visible_to(customers))
        return (await find_page(self.returns, query, IN_ORDER, after, limit)).map(from_doc)

    async def recent(
        self, limit: int, after: Key | None = None, customers: tuple[str, ...] | None = None
    ) -> Page[Return]:
        page = await find_page(self.returns, visible_to(customers), NEWEST_FIRST, after, limit)
        return page.map(from_doc)
