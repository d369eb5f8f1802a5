"""Idempotency keys (API.md ``Idempotency-Key``): the one contract every door uses (issue 6).

A claim binds the client's key to the request's fingerprint and to what the request creates (an
order number, a return number). It is one insert on a unique ``_id``, so of two racing requests
with one key exactly one wins; the other reads the winner's claim and converges on it. A claim is
never changed or removed once made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.envelope import utcnow

Doc = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A key, the fingerprint of the body it first came with, and the id that request creates."""

    key: str
    fingerprint: str
    target: str

    @classmethod
    def from_doc(cls, doc: Doc) -> Claim:
        # Claims stored before this contract named their fields after what they made.
        fingerprint = doc.get("fingerprint", doc.get("body_hash", ""))
        target = doc.get("target") or doc.get("order_id") or doc.get("return_id") or ""
        return cls(str(doc["_id"]), str(fingerprint), str(target))


class IdempotencyKeys(Protocol):
    """The port: the claim a key holds, and claiming one."""

    async def get(self, key: str) -> Claim | None: ...

    async def claim(self, key: str, fingerprint: str, target: str) -> Claim:
        """Bind ``key`` to ``target``; returns the claim that holds the key (ours, or a twin's)."""
        ...


class MongoIdempotencyKeys:
    """Claims of idempotency keys in one collection of the service's own database."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def get(self, key: str) -> Claim | None:
        doc = await self.collection.find_one({"_id": key})
        return Claim.from_doc(doc) if doc else None

    async def claim(self, key: str, fingerprint: str, target: str) -> Claim:
        """Bind ``key`` to ``target``; returns the claim that holds the key (ours, or a twin's)."""
        doc = {"_id": key, "fingerprint": fingerprint, "target": target, "claimed_at": utcnow()}
        try:
            await self.collection.insert_one(doc)
            return Claim(key, fingerprint, target)
        except DuplicateKeyError:
            existing = await self.get(key)
            assert existing is not None, "a claim is never removed"
            return existing
