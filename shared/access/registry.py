"""A service's view of the key registry (issue 7): look up, cache, and note last use.

The hot path is a dict lookup: a key's record is cached for ``auth_cache_s`` (so a revocation
takes effect within that time everywhere), unknown ids are cached as absent too (a flood of
made-up keys costs no store round trips), and the last-used time is written at most once per
``auth_touch_s`` per key, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import OrderedDict
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from shared.access.keys import COLLECTION, KeyRecord, issue, key_id_of

log = logging.getLogger(__name__)
_NEGATIVE_CAP = 10_000


def now_ms() -> int:
    return int(time.time() * 1000)


class KeyRegistry:
    def __init__(
        self, collection: AsyncCollection[dict[str, Any]], *, cache_s: float, touch_s: float
    ) -> None:
        self.collection = collection
        self.cache_s, self.touch_s = cache_s, touch_s
        self._cache: OrderedDict[str, tuple[KeyRecord | None, float]] = OrderedDict()
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def on(cls, db: Any, *, cache_s: float, touch_s: float) -> KeyRegistry:
        return cls(db[COLLECTION], cache_s=cache_s, touch_s=touch_s)

    async def find(self, key: str) -> KeyRecord | None:
        """The usable record of ``key`` (right secret, not revoked, not expired), else None."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        record = await self._record(key_id)
        if record is None or not record.matches(key) or not record.usable(now_ms()):
            return None
        self._touch(record.key_id)
        return record

    async def _record(self, key_id: str) -> KeyRecord | None:
        hit = self._cache.get(key_id)
        clock = time.monotonic()
        if hit is not None and clock - hit[1] < self.cache_s:
            return hit[0]
        doc = await self.collection.find_one({"_id": key_id})
        record = KeyRecord.from_doc(doc) if doc else None
        self._cache[key_id] = (record, clock)
        self._cache.move_to_end(key_id)
        while len(self._cache) > _NEGATIVE_CAP:
            self._cache.popitem(last=False)
        return record

    def _touch(self, key_id: str) -> None:
        clock = time.monotonic()
        if clock - self._touched.get(key_id, -self.touch_s) < self.touch_s:
            return
        self._touched[key_id] = clock
        task = asyncio.get_running_loop().create_task(self._write_last_used(key_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_last_used(self, key_id: str) -> None:
        try:
            await self.collection.update_one({"_id": key_id}, {"$set": {"last_used_at": now_ms()}})
        except Exception as exc:  # last use is informative; never fail a request over it
            log.warning("could not record a key's last use", extra={"key_id": key_id, "error": repr(exc)})

    async def mint_service_key(self, service: str, valid_days: int = 365) -> str:
        """A key of role ``service`` for this process's calls to the other services.

        A service can write the registry, so it needs no key handed to it: each process mints
        its own at start (named after the service, host and pid, expiring after ``valid_days``,
        revoked when the process stops: ``revoke``);
        ``<SERVICE>_API_KEY`` replaces it where keys are distributed by other means.
        """
        now = now_ms()
        record, key = issue(
            name=f"service:{service}@{socket.gethostname()}:{os.getpid()}", role="service", now_ms=now,
            expires_at=now + valid_days * 86_400_000, created_by=service,
        )  # fmt: skip
        await self.collection.insert_one(record.to_doc())
        return key

    async def revoke(self, key: str) -> None:
        key_id = key_id_of(key)
        if key_id is not None:
            await self.collection.update_one(
                {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now_ms()}}
            )
