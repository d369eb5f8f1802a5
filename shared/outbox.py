"""Publishes the messages staged in documents: at once after a write, and by a relay after a crash.

The rule (ARCHITECTURE.md "Outbox"):

- A writer publishes only the entries its own write staged (``shared.store.staged_by``), never
  what an earlier write left behind: that is the relay's, after ``RELAY_GRACE_S``.
- Published entries are cleared by message id, and every clear bumps ``version``, so a writer
  that read the document before the clear loses its optimistic race and re-reads instead of
  writing the published entries back (which is what made the ping-pong of issue 10).
- ``outbox_at`` (what the relay looks for) is cleared in the same write when the document holds
  nothing else; otherwise it stays and the relay's next pass finishes the job.

A store that drops the entries this process published from its next save (``recently_published``,
as the order store does) can use ``flush_deferred``: the clears then wait a moment and go out in
one batch per collection, without a version bump, and a document written again soon needs no
clear at all: one store round trip less per change (issue 6 §4). Only a writer in another
process that read before a clear can write an entry back; the relay then publishes it once more.

At-least-once stays: a crash between publish and clear repeats a message once, through the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from shared.bus import Bus
from shared.envelope import Envelope, utcnow
from shared.outbox_batch import PublishedEntries
from shared.settings import ServiceSettings
from shared.store import Doc, entry_envelope, staged_by

log = logging.getLogger(__name__)
class Outbox:
    """One per service; ``watch`` every collection whose documents carry an outbox."""

    def __init__(self, bus: Bus, settings: ServiceSettings) -> None:
        self.bus = bus
        self.settings = settings
        self._collections: dict[str, AsyncCollection[Doc]] = {}
        self._task: asyncio.Task[None] | None = None
        self._clearer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.published = PublishedEntries()

    def watch(self, collection: AsyncCollection[Doc]) -> None:
        self._collections[collection.full_name] = collection

    async def create_indexes(self) -> None:
        for collection in self._collections.values():
            await collection.create_index("outbox_at")

    async def flush(self, collection: AsyncCollection[Doc], doc: Doc) -> bool:
        """Publish what the write that produced ``doc`` staged, then clear exactly those entries.

        Never raises: what could not be published stays staged for the relay. Returns False then.
        """
        own = staged_by(doc)
        if not own:
            return True
        alone = len(own) == len(doc.get("outbox") or {})
        return await self._publish_and_clear(collection, doc, own, alone)

    async def flush_deferred(self, collection: AsyncCollection[Doc], doc: Doc) -> bool:
        """Publish what the write that produced ``doc`` staged; clear it in the next batch (or at
        once while no clearer runs, e.g. in a tool or a test). For stores whose saves drop
        ``recently_published`` entries. Never raises; False when the publish failed."""
        own = staged_by(doc)
        if not own:
            return True
        try:
            await self.publish([Envelope.model_validate(raw) for raw in own.values()])
        except Exception as exc:
            log.warning(
                "publish failed, the relay will retry",
                extra={"error": f"{type(exc).__name__}: {exc}", "doc_id": str(doc["_id"])},
            )
            return False
        self.published.wait_for_clear(collection, doc, own)
        if self._clearer is None:
            await self.clear_pending()
        return True

    async def replace(self, collection: AsyncCollection[Doc], doc: Doc) -> Doc:
        """``shared.store.replace_doc`` for stores that use ``flush_deferred``: entries this process
        already published are left out of the write (it is their clear), the new ones stay."""
        return await self.published.replace(collection, doc)

    def recently_published(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` this process published lately: a save may leave them out of the outbox."""
        return self.published.recently_published(ids)

    def forget(self, collection: AsyncCollection[Doc], doc_id: Any, ids: Iterable[str]) -> None:
        """A save left ``ids`` out of the document: nothing left to clear for them."""
        self.published.forget(collection, doc_id, ids)

    async def clear_pending(self) -> int:
        """Clear every published entry still waiting for its clear (one bulk write per collection)."""
        return await self.published.clear_pending()

    async def publish(self, envelopes: list[Envelope]) -> None:
        """Publish without a document (a repeated reply to a duplicate command); raises on failure
        so the command is retried by the bus."""
        await asyncio.gather(*(self.bus.publish(envelope) for envelope in envelopes))

    async def _publish_and_clear(
        self, collection: AsyncCollection[Doc], doc: Doc, entries: Mapping[str, dict[str, Any]], alone: bool
    ) -> bool:
        try:
            await self.publish([Envelope.model_validate(raw) for raw in entries.values()])
        except Exception as exc:
            log.warning(
                "publish failed, the relay will retry",
                extra={"error": f"{type(exc).__name__}: {exc}", "doc_id": str(doc["_id"])},
            )
            return False
        await self._clear(collection, doc, list(entries), alone)
        return True

    async def _clear(self, collection: AsyncCollection[Doc], doc: Doc, ids: list[str], alone: bool) -> None:
        unset = {f"outbox.{message_id}": "" for message_id in ids}
        if alone:
            # Nobody wrote since: the outbox held only these, so the relay need not look here again.
            result = await collection.update_one(
                {"_id": doc["_id"], "version": doc["version"]},
                {"$unset": unset, "$set": {"outbox_at": None}, "$inc": {"version": 1}},
            )
            if result.matched_count:
                return
        # Someone wrote since (or left-overs remain): clear ours only; the relay clears outbox_at.
        await collection.update_one(
            {"_id": doc["_id"], f"outbox.{ids[0]}": {"$exists": True}},
            {"$unset": unset, "$inc": {"version": 1}},
        )

    async def relay_once(self) -> int:
        """Publish what writers left behind (a crash between write and publish), once."""
        cutoff = utcnow() - timedelta(seconds=self.settings.relay_grace_s)
        published = 0
        for collection in self._collections.values():
            async for doc in collection.find({"outbox_at": {"$lt": cutoff}}).limit(200):
                outbox = doc.get("outbox") or {}
                known = self.published
                entries = {mid: entry_envelope(entry) for mid, entry in outbox.items() if mid not in known}
                if outbox and not entries:
                    continue  # published here and waiting for the batched clear
                if not entries:
                    # Cleared by id after a race: nothing left, stop looking at this document.
                    await collection.update_one(
                        {"_id": doc["_id"], "version": doc["version"]}, {"$set": {"outbox_at": None}}
                    )
                elif await self._publish_and_clear(collection, doc, entries, alone=True):
                    published += len(entries)
        if published:
            log.info("relay published left-over messages", extra={"count": published})
        return published

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.relay_once()
            except Exception:
                log.exception("outbox relay pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.relay_interval_s)

    async def _clear_loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.outbox_clear_interval_s)
            try:
                await self.clear_pending()
            except Exception:
                log.exception("outbox clear pass failed")

    def start(self, *, relay: bool = True) -> None:
        """Start the clearer of published entries and (unless ``relay`` is False: a process that
        leaves crash recovery to the services) the relay of what crashes left behind."""
        self._stopping.clear()
        if relay:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")
        self._clearer = asyncio.create_task(self._clear_loop(), name="outbox-clearer")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let a pass in progress finish (so nothing it published is published again), then stop."""
        if self._task is None and self._clearer is None:
            return
        self._stopping.set()
        try:
            tasks = [task for task in (self._task, self._clearer) if task is not None]
            await asyncio.wait_for(asyncio.gather(*tasks), grace_s)
        except TimeoutError:
            log.warning("outbox relay did not finish its pass in time; the next start republishes it")
        self._task = self._clearer = None
        await self.clear_pending()  # what the last pass published
