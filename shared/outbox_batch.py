"""Published outbox entries that wait for their clear (``Outbox.flush_deferred``, issue 6 §4).

A store that leaves out of its next save what this process already published (``replace``) needs
no clear of its own for a document written again soon; the rest are cleared in one ordered bulk
write per collection by ``clear_pending`` (the outbox's clearer calls it every
``OUTBOX_CLEAR_INTERVAL_S``), without a version bump.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.store import Doc, replace_doc

log = logging.getLogger("shared.outbox")
RECENT = 20_000  # published message ids remembered, so a save can drop them instead of a clear


@dataclass
class _Pending:
    """Published entries of one document waiting for the batched clear."""

    collection: AsyncCollection[Doc]
    doc_id: Any
    version: int
    alone: bool  # at ``version`` the outbox held nothing else: outbox_at can go too
    ids: set[str] = field(default_factory=set)


class PublishedEntries:
    """What this process published lately, and which of it still waits for a clear."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, Any], _Pending] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._recent

    def wait_for_clear(self, collection: AsyncCollection[Doc], doc: Doc, ids: Iterable[str]) -> None:
        """``ids`` of ``doc`` (as its write left it) were published: clear them with the next batch."""
        self._remember(ids)
        key = (collection.full_name, doc["_id"])
        earlier = self._pending.pop(key, None)
        waiting = set(ids) | (earlier.ids if earlier else set())
        alone = len(waiting) == len(doc.get("outbox") or {})
        self._pending[key] = _Pending(collection, doc["_id"], doc["version"], alone, waiting)

    async def replace(self, collection: AsyncCollection[Doc], doc: Doc) -> Doc:
        """``shared.store.replace_doc`` for stores that use ``flush_deferred``: entries this process
        already published are left out of the write (it is their clear), the new ones stay."""
        outbox, staged_in = doc.get("outbox") or {}, int(doc["version"]) + 1
        dropped = {
            mid for mid, entry in outbox.items()
            if mid in self._recent and not (isinstance(entry, dict) and entry.get("staged_in") == staged_in)
        }  # fmt: skip
        if dropped:
            doc = {**doc, "outbox": {mid: e for mid, e in outbox.items() if mid not in dropped}}
            if not doc["outbox"]:
                doc["outbox_at"] = None  # nothing left for the relay
        saved = await replace_doc(collection, doc)
        self.forget(collection, saved["_id"], dropped)
        return saved

    def recently_published(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` this process published lately: a save may leave them out of the outbox."""
        return {message_id for message_id in ids if message_id in self._recent}

    def forget(self, collection: AsyncCollection[Doc], doc_id: Any, ids: Iterable[str]) -> None:
        """A save left ``ids`` out of the document: nothing left to clear for them."""
        pending = self._pending.get((collection.full_name, doc_id))
        if pending is not None:
            pending.ids.difference_update(ids)
            if not pending.ids:
                del self._pending[(collection.full_name, doc_id)]

    async def clear_pending(self) -> int:
        """Clear every published entry still waiting, in one ordered bulk write per collection."""
        pending, self._pending = self._pending, {}
        by_collection: dict[str, list[_Pending]] = {}
        for item in pending.values():
            if item.ids:
                by_collection.setdefault(item.collection.full_name, []).append(item)
        for items in by_collection.values():
            ops: list[UpdateOne] = []
            for item in items:
                if item.alone:  # unchanged since: the outbox held only these, the relay need not look
                    ops.append(UpdateOne({"_id": item.doc_id, "version": item.version},
                                         {"$set": {"outbox_at": None}}))  # fmt: skip
                ops.append(UpdateOne({"_id": item.doc_id}, {"$unset": {f"outbox.{i}": "" for i in item.ids}}))
            try:
                await items[0].collection.bulk_write(ops, ordered=True)
            except Exception as exc:  # kept for the next pass; the entries are published already
                error = f"{type(exc).__name__}: {exc}"
                log.warning("clearing published entries failed, retrying", extra={"error": error})
                for item in items:
                    self._pending.setdefault((item.collection.full_name, item.doc_id), item)
        return sum(len(item.ids) for items in by_collection.values() for item in items)

    def _remember(self, ids: Iterable[str]) -> None:
        for message_id in ids:
            self._recent[message_id] = None
            self._recent.move_to_end(message_id)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
