"""In-memory adapters for handler tests (issue 6): the same ports as the Mongo adapters, the same
document format (so the outbox rule is the same), no store and no broker. Their behaviour is held
to the Mongo adapters' by tests/integration/intake/test_order_store_contract.py."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.intake.adapters.mapping import from_doc, to_fields
from services.intake.adapters.mongo_orders import fingerprint
from services.intake.domain.order import Order
from services.intake.domain.screening import PastOrder
from shared.aggregates import Loaded
from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError
from shared.idempotency import Claim
from shared.store import Doc, stage, staged_by


class FakeBus:
    """What was published, in order; ``fail`` makes the next publishes raise like a broker outage."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.fail = False

    async def publish(self, envelope: Envelope) -> None:
        if self.fail:
            raise ConnectionError("broker gone")
        self.published.append(envelope)

    def types(self) -> list[str]:
        return [e.type for e in self.published]


class FakeOrderStore:
    """``MongoOrderStore``'s ports in memory; counts writes so a test can see "nothing was written"."""

    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.docs: dict[str, Doc] = {}
        self.writes = 0
        self.before_next_save: list[Any] = []  # callables run before a save: a racing writer

    async def get(self, order_id: str) -> Doc | None:
        doc = self.docs.get(order_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def load(self, order_id: str) -> Loaded[Order] | None:
        doc = await self.get(order_id)
        return Loaded(from_doc(doc), doc) if doc else None

    async def insert(self, order: Order, commands: Iterable[Envelope], trace: dict[str, str]) -> Doc:
        if order.order_id in self.docs:
            raise DuplicateKeyError(f"order {order.order_id} exists")
        doc = {**stage({**to_fields(order), "trace": trace, "updated_at": utcnow()}, commands), "version": 1}
        self.docs[order.order_id] = copy.deepcopy(doc)
        self.writes += 1
        return doc

    async def save(self, loaded: Loaded[Order], commands: Sequence[Envelope] = ()) -> Loaded[Order]:
        while self.before_next_save:
            await self.before_next_save.pop(0)()
        order_id, version = loaded.aggregate.order_id, loaded.doc["version"]
        if self.docs[order_id]["version"] != version:
            raise ConcurrencyError(f"orders/{order_id} changed since version {version}")
        doc = {**stage({**loaded.doc, **to_fields(loaded.aggregate), "updated_at": utcnow()}, commands)}
        doc["version"] = version + 1
        self.docs[order_id] = copy.deepcopy(doc)
        self.writes += 1
        return Loaded(loaded.aggregate, doc)

    async def flush(self, saved: Loaded[Order]) -> None:
        """Publish what the save staged, then clear those entries by id (Outbox.flush_deferred with
        no clearer running: no version bump)."""
        own = staged_by(saved.doc)
        for raw in own.values():
            await self.bus.publish(Envelope.model_validate(raw))
        stored = self.docs[saved.aggregate.order_id]
        for message_id in own:
            stored["outbox"].pop(message_id, None)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await self.bus.publish(envelope)

    def fingerprint(self, order: Order) -> Doc:
        return fingerprint(order)

    async def recent_for_customer(self, customer_id: str, limit: int) -> list[PastOrder]:
        return []


class FakeIdempotencyKeys:
    """The port in memory, for handler tests (the same contract as the Mongo adapter)."""

    def __init__(self) -> None:
        self.claims: dict[str, Claim] = {}

    async def get(self, key: str) -> Claim | None:
        return self.claims.get(key)

    async def claim(self, key: str, fingerprint: str, target: str) -> Claim:
        return self.claims.setdefault(key, Claim(key, fingerprint, target))


class InMemoryBus(FakeBus):
    """The bus's in-memory path (issue 6 §1): services subscribe their CONSUMES tables to it
    (``shared.bus.binding.subscribe_all``) and ``drain`` delivers what was published, commands to
    the one service that consumes them and events to every subscriber, each ``copies`` times (a
    redelivering broker), until nothing is left. No broker, no store: a whole saga in milliseconds."""

    def __init__(self, copies: int = 1) -> None:
        super().__init__()
        self.copies = copies
        self.handlers: dict[str, list[Any]] = {}
        self.delivered: list[Envelope] = []
        self._queue: list[Envelope] = []

    def subscribe(self, message_type: type, handler: Any) -> None:
        self.handlers.setdefault(message_type.__name__, []).append(handler)

    async def publish(self, envelope: Envelope) -> None:
        await super().publish(envelope)
        self._queue.append(envelope)

    async def drain(self, limit: int = 10_000) -> int:
        """Deliver until the queue is empty; returns the deliveries made (a storm hits ``limit``)."""
        count = 0
        while self._queue and count < limit:
            envelope = self._queue.pop(0)
            for handler in self.handlers.get(envelope.type, []):
                for _ in range(self.copies):
                    count += 1
                    self.delivered.append(envelope)
                    await handler(envelope.message(), envelope)
        return count


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


class FakeDocumentStore:
    """What every in-memory store on ``FakeDocuments`` shares: its documents, the write count, the
    racing writers of the next write, and the outbox's flush and publish."""

    collection: FakeDocuments

    @property
    def docs(self) -> dict[Any, Doc]:
        return self.collection.docs

    @property
    def writes(self) -> int:
        return self.collection.writes

    @property
    def before_next_save(self) -> list[RacingWriter]:
        """Racing writers, each run once just before the next write."""
        return self.collection.before_next_save

    async def flush(self, saved: Loaded[Any]) -> None:
        await self.collection.flush(saved.doc)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.collection.publish(envelopes)
