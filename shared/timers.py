"""Durable timers: a saga waits "until X or until the deadline", and the deadline survives restarts.

A timer is a document in the service's ``timers`` collection (no delayed-message plugin here) under
a business key the caller chooses (``f"{order_id}:confirmation"``), holding ``due_at`` and the
envelope to publish then. States are strings; nothing is deleted: pending -> firing -> fired, or
pending -> cancelled. ``schedule`` is idempotent by key (a twin or a redelivery keeps the first).

A scanner in every replica claims due timers one at a time (``find_one_and_update`` to ``firing``
with a claim token and a lease), so two replicas never fire one timer at once; a claim whose lease
(``TIMER_LEASE_S``) ran out belonged to a replica that died and is taken over. Firing publishes
with confirms, then marks ``fired``: a crash in between publishes once more, under the same message
id. The message goes to the service that scheduled it, whose handler is idempotent by state: a
deadline for something that happened meanwhile does nothing (which also covers a late ``cancel``).

The embedded store compares a datetime range to the whole second: ``due_at < now`` matches once the
due second is over, so a timer fires up to about a second late there, never early (real MongoDB
compares milliseconds). ``$lte`` would match up to a second early there, so it is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opentelemetry import context, propagate
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.bus import Bus
from shared.contracts import Message
from shared.envelope import Envelope, new_envelope, to_millis, utcnow
from shared.settings import ServiceSettings
from shared.store import Doc

log = logging.getLogger(__name__)

TIMERS_COLLECTION = "timers"
_MESSAGE_IDS = uuid.UUID("0c4f6a52-93d1-4b7e-8f2a-6d1e9b3c5a70")


@dataclass(frozen=True)
class Timer:
    """A scheduled message: what ``schedule`` kept under the key, and where it stands."""

    key: str
    due_at: datetime
    state: str  # pending | firing | fired | cancelled
    envelope: Envelope

    @classmethod
    def from_doc(cls, doc: Doc) -> Timer:
        return cls(doc["_id"], doc["due_at"], doc["state"], Envelope.model_validate(doc["envelope"]))


def timer_message_id(service: str, key: str) -> str:
    """One message id per timer, whichever replica or attempt publishes it."""
    return uuid.uuid5(_MESSAGE_IDS, f"{service}/{key}").hex


def claimable(now: datetime) -> Doc:
    """What a scanner may claim at ``now``: due pending timers, and claims whose lease ran out."""
    return {
        "$or": [
            {"state": "pending", "due_at": {"$lt": now}},
            {"state": "firing", "lease_until": {"$lt": now}},
        ]
    }


def lateness_ms(due_at: datetime, fired_at: datetime) -> int:
    """How long after its due time a timer fired (negative only if replicas' clocks disagree)."""
    if due_at.tzinfo is None:  # a client without tz_aware reads BSON dates as naive UTC
        due_at = due_at.replace(tzinfo=UTC)
    return round((fired_at - due_at).total_seconds() * 1000)


class Timers:
    """One per service (``ServiceContext.timers``): schedule, cancel, and the scanner that fires."""

    def __init__(self, bus: Bus, collection: AsyncCollection[Doc], settings: ServiceSettings) -> None:
        self.bus, self.collection, self.settings = bus, collection, settings
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def create_indexes(self) -> None:
        await self.collection.create_index([("state", 1), ("due_at", 1)])

    async def schedule(
        self, key: str, due_at: datetime, message: Message, *, causation: Envelope | None = None
    ) -> Timer:
        """Publish ``message`` to this service at ``due_at``, once; a key already scheduled is
        returned as it is (even if cancelled or fired). Schedule before the write that starts the
        wait: a crash in between leaves a deadline with nothing to do, never a wait without one."""
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        if type(message).SERVICE != self.settings.service_name:
            raise ValueError(f"a timer's message goes to the service that scheduled it, not {message!r}")
        due_at = to_millis(due_at)  # what BSON keeps
        service = self.settings.service_name
        envelope = new_envelope(
            message, producer=service, causation=causation, message_id=timer_message_id(service, key)
        ).model_copy(update={"occurred_at": due_at})  # the deadline passed then, whenever it is sent
        raw = envelope.model_dump(mode="json")
        doc: Doc = {"_id": key, "state": "pending", "due_at": due_at, "envelope": raw, "attempts": 0}
        doc.update(claim=None, lease_until=None, fired_at=None, created_at=utcnow())  # set as it moves on
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": key})
            if existing is None:  # timers are never deleted: someone removed it by hand
                raise
            return Timer.from_doc(existing)
        return Timer.from_doc(doc)

    async def cancel(self, key: str) -> bool:
        """Stop a pending timer. True if it is cancelled (now or before); False if it fired, is
        firing (too late: its handler sees a deadline for what already happened) or is unknown."""
        result = await self.collection.update_one(
            {"_id": key, "state": "pending"}, {"$set": {"state": "cancelled", "cancelled_at": utcnow()}}
        )
        if result.matched_count:
            return True
        doc = await self.collection.find_one({"_id": key}, {"state": 1})
        return doc is not None and doc["state"] == "cancelled"

    async def fire_due(self) -> int:
        """Fire what is due, one claim at a time, oldest first; returns how many fired. A failed
        publish hands its timer back and ends the pass (the next pass retries it)."""
        fired = 0
        while not self._stopping.is_set():
            now, token = utcnow(), uuid.uuid4().hex
            lease_until = now + timedelta(seconds=self.settings.timer_lease_s)
            claim = {
                "$set": {"state": "firing", "claim": token, "lease_until": lease_until},
                "$inc": {"attempts": 1},
            }
            doc = await self.collection.find_one_and_update(
                claimable(now), claim, sort=[("due_at", 1)], return_document=ReturnDocument.AFTER
            )
            if doc is None or not await self._fire(doc, token):
                return fired
            fired += 1
        return fired

    async def _fire(self, doc: Doc, token: str) -> bool:
        key, envelope = doc["_id"], Envelope.model_validate(doc["envelope"])
        mine = {"_id": key, "state": "firing", "claim": token}
        info = {"order_id": envelope.correlation_id, "message_id": envelope.message_id, "key": key}
        attached = context.attach(propagate.extract(envelope.trace))  # log lines join the order's trace
        try:
            try:
                await self.bus.publish(envelope)
            except Exception as exc:
                log.warning("timer not published, retrying next pass", extra={**info, "error": repr(exc)})
                await self.collection.update_one(mine, {"$set": {"state": "pending", "claim": None}})
                return False
            now = utcnow()
            result = await self.collection.update_one(mine, {"$set": {"state": "fired", "fired_at": now}})
            if not result.matched_count:  # stalled past the lease: another replica fires the same id
                log.warning("timer claim expired before it was marked fired", extra=info)
            late_ms = lateness_ms(doc["due_at"], now)
            log.info("timer fired", extra={**info, "late_ms": late_ms, "attempt": doc.get("attempts")})
            return True
        finally:
            context.detach(attached)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.fire_due()
            except Exception:
                log.exception("timer scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.timer_interval_s)

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="timer-scanner")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let the timer being fired finish (so it is marked fired, not sent again), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning("timer scanner did not finish in time; its claim is taken over after the lease")
        self._task = None
