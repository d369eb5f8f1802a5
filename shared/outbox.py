"""Publishes the messages staged in documents: at once after a write, and by a relay after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from pymongo.asynchronous.collection import AsyncCollection

from shared.bus import Bus
from shared.envelope import Envelope, utcnow
from shared.settings import ServiceSettings
from shared.store import Doc

log = logging.getLogger(__name__)


class Outbox:
    """One per service; ``watch`` every collection whose documents carry an outbox."""

    def __init__(self, bus: Bus, settings: ServiceSettings) -> None:
        self.bus = bus
        self.settings = settings
        self._collections: dict[str, AsyncCollection[Doc]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def watch(self, collection: AsyncCollection[Doc]) -> None:
        self._collections[collection.full_name] = collection

    async def create_indexes(self) -> None:
        for collection in self._collections.values():
            await collection.create_index("outbox_at")

    async def flush(self, collection: AsyncCollection[Doc], doc: Doc) -> bool:
        """Publish the document's pending messages, then clear them if the document is unchanged.

        Never raises: what could not be published stays staged for the relay. Clearing is
        conditional on ``version`` so a concurrent writer's messages are never dropped; at
        worst a message is published twice, which every consumer tolerates.
        """
        pending = doc.get("outbox") or {}
        if not pending:
            return True
        try:
            for raw in pending.values():
                await self.bus.publish(Envelope.model_validate(raw))
        except Exception as exc:
            log.warning(
                "publish failed, the relay will retry",
                extra={"error": f"{type(exc).__name__}: {exc}", "doc_id": str(doc["_id"])},
            )
            return False
        await collection.update_one(
            {"_id": doc["_id"], "version": doc["version"]}, {"$set": {"outbox": {}, "outbox_at": None}}
        )
        return True

    async def relay_once(self) -> int:
        """Publish what writers left behind (a crash between write and publish)."""
        cutoff = utcnow() - timedelta(seconds=self.settings.relay_grace_s)
        published = 0
        for collection in self._collections.values():
            async for doc in collection.find({"outbox_at": {"$lt": cutoff}}).limit(200):
                if await self.flush(collection, doc):
                    published += len(doc.get("outbox") or {})
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

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let a pass in progress finish (so nothing it published is published again), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning("outbox relay did not finish its pass in time; the next start republishes it")
        self._task = None
