"""The one way to change an aggregate (issue 6): load, decide (pure), save with the messages the
decision causes staged in the same write under a ``version`` check, flush; decided again from a
fresh read when another writer won the race. A decision that changes nothing writes nothing and
sends nothing; a duplicate can be answered again without a write (ARCHITECTURE.md "Duplicates").

A service's store implements ``AggregateStore`` (its Mongo adapter, and a ``Fake...`` in tests
that runs the same behaviour tests), so handlers are a few lines: ``await change(store, key, decide)``.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from shared.contracts import Message
from shared.envelope import Envelope, new_envelope
from shared.errors import ConcurrencyError

A = TypeVar("A")
Doc = dict[str, Any]


@dataclass
class Loaded(Generic[A]):
    """An aggregate as read, with the stored document it came from (its version, outbox, trace)."""

    aggregate: A
    doc: Doc
    cached: bool = False  # read from the store's own memory of its last write, not from the store


@dataclass(frozen=True)
class Answers:
    """The envelopes of what ``producer`` sends because of ``cause``: the ``envelopes`` argument of
    ``change`` in every service. A reply's id derives from the command's (``reply_id``), so a
    duplicate is answered under the id it had the first time; with no cause, ids are new."""

    producer: str
    cause: Envelope | None = None

    def __call__(self, messages: Sequence[Message], _loaded: object = None) -> list[Envelope]:
        return [new_envelope(message, producer=self.producer, causation=self.cause) for message in messages]


@dataclass(frozen=True)
class Again:
    """A duplicate command: nothing is written; these replies are published again under the ids
    they had the first time (``shared.envelope.reply_id``)."""

    messages: Sequence[Message]


Decision = Sequence[Message] | Again


class AggregateStore(Protocol[A]):
    """The repository port the skeleton needs; ``save`` raises ConcurrencyError on a lost race."""

    async def load(self, key: str) -> Loaded[A] | None: ...

    async def save(self, loaded: Loaded[A], envelopes: Sequence[Envelope]) -> Loaded[A]: ...

    async def flush(self, saved: Loaded[A]) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...

    def fingerprint(self, aggregate: A) -> object:
        """What must differ for a decision to be worth a write (the stored fields, say)."""
        ...


@dataclass
class Changed(Generic[A]):
    """What ``change`` did: the aggregate as stored now, whether it wrote, and what it sent."""

    loaded: Loaded[A]
    written: bool
    sent: list[Message]


class LastWrites:
    """The documents a store wrote last, by key: what its ``load_cached`` answers from (bounded).

    Only ever a starting point: ``change`` checks a write decided on it by ``version`` and trusts a
    decision to do nothing only after a fresh read, so a copy another replica made stale costs a
    retry, never a lost update or a dropped reply."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._docs: OrderedDict[Any, Doc] = OrderedDict()

    def get(self, key: Any) -> Doc | None:
        """A copy of its own, nested maps and lists included: a decision mutates the aggregate made
        from it, and one that is never saved (a lost race, a refusal) must not change what the next
        reader of the cache gets - that next decision would save the phantom change under the
        right version (issue 9: compensation steps marked done that were never sent)."""
        doc = self._docs.get(key)
        return _copy(doc) if doc is not None else None

    def keep(self, doc: Doc) -> None:
        self._docs[doc["_id"]] = _copy(doc)
        self._docs.move_to_end(doc["_id"])
        while len(self._docs) > self.size:
            self._docs.popitem(last=False)

    def drop(self, key: Any) -> None:
        self._docs.pop(key, None)


def _copy(doc: Doc) -> Doc:
    """A deep copy of a stored document (pickle: several times faster than copy.deepcopy)."""
    return pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))


class NotFound(Exception):
    """The aggregate to change does not exist (each service maps it to its own error)."""


async def change(
    store: AggregateStore[A],
    key: str,
    decide: Callable[[A], Decision],
    *,
    envelopes: Callable[[Sequence[Message], Loaded[A]], list[Envelope]],
    attempts: int,
) -> Changed[A]:
    """Apply ``decide`` to the aggregate under optimistic concurrency; NotFound when it does not
    exist, ConcurrencyError when it kept changing for ``attempts`` reads."""
    # A store may offer ``load_cached``: the document as its own last write left it, which saves a
    # read on the hot path. A write decided on it is checked by ``version`` like any other; a
    # decision to do nothing is only trusted on a fresh read (a stale copy must not drop a reply).
    load_cached = getattr(store, "load_cached", None)
    for attempt in range(attempts):
        loaded = await (load_cached(key) if load_cached and attempt == 0 else store.load(key))
        if loaded is None:
            raise NotFound(key)
        before = store.fingerprint(loaded.aggregate)
        decision = decide(loaded.aggregate)
        if loaded.cached and (isinstance(decision, Again) or not decision):
            if store.fingerprint(loaded.aggregate) == before:
                continue  # nothing to write on a cached copy: decide again on a fresh read
        if isinstance(decision, Again):
            await store.publish(envelopes(decision.messages, loaded))
            return Changed(loaded, False, list(decision.messages))
        messages = list(decision)
        if not messages and store.fingerprint(loaded.aggregate) == before:
            return Changed(loaded, False, [])  # a duplicate or an unexpected reply: nothing to do
        try:
            saved = await store.save(loaded, envelopes(messages, loaded))
        except ConcurrencyError:
            continue  # someone wrote first: decide again on what they wrote
        await store.flush(saved)
        return Changed(saved, True, messages)
    raise ConcurrencyError(f"{key} kept changing; try again")
