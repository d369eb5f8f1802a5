"""Idempotency keys of ``POST /returns``: one document per key, naming the return it created."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.envelope import utcnow

from .documents import Doc


class MongoIdempotencyKeys:
    """``_id`` is the client's key, so two requests with one key can never both claim it."""

    def __init__(self, keys: AsyncCollection[Doc]) -> None:
        self.keys = keys

    async def get(self, key: str) -> Doc | None:
        return await self.keys.find_one({"_id": key})

    async def claim(self, key: str, return_id: str, fingerprint: str) -> bool:
        """Record that ``key`` creates ``return_id``; False when another request claimed it first."""
        try:
            await self.keys.insert_one(
                {"_id": key, "return_id": return_id, "fingerprint": fingerprint, "at": utcnow()}
            )
        except DuplicateKeyError:
            return False
        return True
