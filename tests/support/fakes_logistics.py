"""In-memory adapters for logistics' handler tests (issue 6), and ``FakeDocuments``: one collection
in memory under the store's write rules, which the other services' fakes build on as well.

The fakes keep the Mongo adapters' document format (they call the same mapping functions), so
the outbox rule is the same: a writer flushes only what its own write staged, entries are cleared
by id (as Outbox.flush_deferred does).
tests/integration/logistics/test_shipment_store_contract.py holds
``FakeShipmentStore`` to ``MongoShipmentStore``.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.logistics.adapters.mongo_shipments import changed_doc, from_doc, new_doc, to_doc
from services.logistics.domain import Shipment
from services.logistics.ports import ShipmentStore
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.errors import ConcurrencyError
from shared.store import Doc, staged_by
from tests.support.fakes import FakeBus

RacingWriter = Callable[[], Awaitable[Any]]


class FakeDocuments:
    """Documents by ``_id`` with unique keys, optimistic replaces on ``version`` and the outbox's
    flush; counts inserts and replaces so a test can see "nothing was written".

    ``before_next_save`` holds racing writers: each runs once, just before the next insert or
    replace, so the write that follows finds the document changed (or the key taken)."""

    def __init__(self, bus: FakeBus, unique: Sequence[tuple[str, ...]] = ()) -> None:
        self.bus = bus
        self.unique = unique
        self.docs: dict[str, Doc] = {}
        self.writes = 0
        self.before_next_save: list[RacingWriter] = []

    def find(self, **fields: Any) -> Doc | None:
        found = self.find_all(**fields)
        return found[0] if found else None

    def find_all(self, **fields: Any) -> list[Doc]:
        return [
            copy.deepcopy(doc)
            for doc in self.docs.values()
            if all(doc.get(name) == value for name, value in fields.items())
        ]

    async def _let_racers_write(self) -> None:
        # Those queued now; one that a racer queues runs before the write after this one.
        racers, self.before_next_save[:] = list(self.before_next_save), []
        for racer in racers:
            await racer()

    async def insert(self, doc: Doc) -> Doc:
        """A new document at version 1; DuplicateKeyError on a taken ``_id`` or unique key."""
        await self._let_racers_write()
        doc = {**doc, "version": 1}
        taken = doc["_id"] in self.docs or any(
            self.find(**{name: doc.get(name) for name in key}) for key in self.unique
        )
        if taken:
            raise DuplicateKeyError(f"duplicate key {doc['_id']}")
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        self.writes += 1
        return doc

    async def replace(self, doc: Doc) -> Doc:
        """The document at its next version, if nobody wrote it since it was read."""
        await self._let_racers_write()
        version = doc["version"]
        stored = self.docs.get(doc["_id"])
        if stored is None or stored["version"] != version:
            raise ConcurrencyError(f"{doc['_id']} changed since version {version}")
        new = {**doc, "version": version + 1}
        self.docs[doc["_id"]] = copy.deepcopy(new)
        self.writes += 1
        return new

    async def flush(self, doc: Doc) -> bool:
        """``Outbox.flush_deferred`` in memory, with no clearer running: publish what the write that
        made ``doc`` staged, then clear exactly those entries (no version bump); a failed publish
        leaves them for the relay."""
        own = staged_by(doc)
        if not own:
            return True
        try:
            for raw in own.values():
                await self.bus.publish(Envelope.model_validate(raw))
        except Exception:
            return False
        stored = self.docs[doc["_id"]]
        alone = len(own) == len(doc.get("outbox") or {}) and stored["version"] == doc["version"]
        if not alone and next(iter(own)) not in (stored.get("outbox") or {}):
            return True  # cleared by someone else already
        stored["outbox"] = {mid: entry for mid, entry in stored["outbox"].items() if mid not in own}
        if alone:
            stored["outbox_at"] = None
        return True

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await self.bus.publish(envelope)


class FakeShipmentStore(ShipmentStore):
    """``MongoShipmentStore`` in memory: one shipment per order."""

    def __init__(self, bus: FakeBus) -> None:
        self.collection = FakeDocuments(bus, unique=[("order_id",)])

    @property
    def writes(self) -> int:
        return self.collection.writes

    @property
    def before_next_save(self) -> list[RacingWriter]:
        return self.collection.before_next_save

    async def load(self, key: str) -> Loaded[Shipment] | None:
        doc = self.collection.find(order_id=key)
        return Loaded(from_doc(doc), doc) if doc else None

    async def load_by_id(self, shipment_id: str) -> Loaded[Shipment] | None:
        doc = self.collection.find(_id=shipment_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, shipment: Shipment, envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return Loaded(shipment, await self.collection.insert(new_doc(shipment, envelopes)))

    async def save(self, loaded: Loaded[Shipment], envelopes: Sequence[Envelope]) -> Loaded[Shipment]:
        return Loaded(loaded.aggregate, await self.collection.replace(changed_doc(loaded, envelopes)))

    async def flush(self, saved: Loaded[Shipment]) -> None:
        await self.collection.flush(saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.collection.publish(envelopes)

    def fingerprint(self, aggregate: Shipment) -> Doc:
        return to_doc(aggregate)
