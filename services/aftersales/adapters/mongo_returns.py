"""Returns in MongoDB: one document per return holding its saga state, history and outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.aftersales.domain import Return, counter_key, format_return_id
from shared.envelope import Envelope
from shared.errors import ConcurrencyError
from shared.outbox import Outbox
from shared.store import insert_doc, replace_doc, stage

from .documents import Doc, from_doc, to_doc


@dataclass
class Loaded:
    """A return as read, with its document: messages still in its outbox must survive the next write."""

    ret: Return
    doc: Doc


class MongoReturnStore:
    """Writes a return and the messages it causes in one document write, then publishes them."""

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

    async def add(self, ret: Return, envelopes: list[Envelope]) -> Loaded:
        """Store a new return; ConcurrencyError when another return of the order took its number."""
        try:
            doc = await insert_doc(self.returns, stage(to_doc(ret), envelopes))
        except DuplicateKeyError as exc:
            raise ConcurrencyError(f"order {ret.order_id} got return no. {ret.order_seq} meanwhile") from exc
        ret.version = doc["version"]
        await self.outbox.flush(self.returns, doc)
        return Loaded(ret, doc)

    async def save(self, loaded: Loaded, envelopes: list[Envelope]) -> Loaded:
        """Replace the return if unchanged since read (else ConcurrencyError); then publish."""
        previous = loaded.doc
        doc = {**to_doc(loaded.ret), "version": previous["version"]}
        doc["outbox"] = dict(previous.get("outbox") or {})
        doc["outbox_at"] = previous.get("outbox_at")
        doc = await replace_doc(self.returns, stage(doc, envelopes))
        loaded.ret.version = doc["version"]
        await self.outbox.flush(self.returns, doc)
        return Loaded(loaded.ret, doc)

    async def get(self, return_id: str) -> Loaded | None:
        doc = await self.returns.find_one({"_id": return_id})
        return Loaded(from_doc(doc), doc) if doc else None

    async def for_order(self, order_id: str) -> list[Return]:
        """Every return of the order, oldest first."""
        cursor = self.returns.find({"order_id": order_id}).sort("order_seq", ASCENDING)
        return [from_doc(doc) async for doc in cursor]

    async def recent(self, limit: int) -> list[Return]:
        cursor = self.returns.find({}).sort("requested_at", DESCENDING).limit(limit)
        return [from_doc(doc) async for doc in cursor]
