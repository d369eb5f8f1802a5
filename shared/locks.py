"""One asyncio lock per business key, so handlers in one process take turns on a hot document.

Optimistic concurrency (``version``) stays the guarantee across replicas; this only stops
concurrent deliveries in the same process from racing each other into retries (a customer
with hundreds of orders in flight would otherwise reload its document once per lost race).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    """``async with locks.hold(key):`` - locks are made on demand and dropped when unused."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
