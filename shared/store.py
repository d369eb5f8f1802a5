"""Document writes with optimistic concurrency and staged outbox messages.

A state change and the messages it causes go into ONE document write (STORE.md: no
multi-document transactions): the envelopes ride in the document's ``outbox`` map
until ``Outbox.flush`` (or the relay) has published them.

Each outbox entry remembers the document version whose write staged it
(``{"staged_in": 7, "envelope": {...}}``), so the writer that made version 7 publishes
exactly its own messages and never again one that an earlier write left behind (that is the
relay's job, once): ARCHITECTURE.md "Outbox".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import is_dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from shared.envelope import Envelope, utcnow
from shared.errors import ConcurrencyError

Doc = dict[str, Any]


def plain(obj: Any) -> Any:
    """A dataclass as document fields, recursively: what ``dataclasses.asdict`` gives, about
    thirty times faster (it deep-copies every value); containers are copied one level deep."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {name: plain(value) for name, value in vars(obj).items()}
    if isinstance(obj, dict):
        return {key: plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(value) for value in obj]
    return obj


def stage(doc: Doc, envelopes: Iterable[Envelope]) -> Doc:
    """Put ``envelopes`` into the document's outbox; they are written with the state change.

    The entries are tagged with the version the next write gives the document (``version`` + 1,
    or 1 for a new document), which is how ``Outbox.flush`` tells them from left-overs. Entries
    already staged stay (a copy of the map is made, so ``doc``'s caller keeps its own).
    """
    outbox = dict(doc.get("outbox") or {})
    staged_in = int(doc.get("version") or 0) + 1
    for envelope in envelopes:
        outbox[envelope.message_id] = {"staged_in": staged_in, "envelope": envelope.model_dump(mode="json")}
    doc = {**doc, "outbox": outbox}
    if outbox and not doc.get("outbox_at"):
        doc["outbox_at"] = utcnow()
    return doc


def entry_envelope(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The raw envelope of an outbox entry (documents written before the tag held it bare)."""
    raw = entry.get("envelope")
    return raw if isinstance(raw, dict) else dict(entry)


def staged_by(doc: Doc) -> dict[str, dict[str, Any]]:
    """The outbox entries the write that produced ``doc`` staged: message id -> raw envelope."""
    version = doc.get("version")
    return {
        message_id: entry["envelope"]
        for message_id, entry in (doc.get("outbox") or {}).items()
        if isinstance(entry, dict) and entry.get("staged_in") == version and "envelope" in entry
    }


async def insert_doc(collection: AsyncCollection[Doc], doc: Doc) -> Doc:
    """Insert a new document at version 1; DuplicateKeyError tells a racing twin."""
    doc = {**doc, "version": 1}
    await collection.insert_one(doc)
    return doc


async def replace_doc(collection: AsyncCollection[Doc], doc: Doc) -> Doc:
    """Replace the document if nobody wrote it since it was read; returns the new version."""
    version = doc["version"]
    new = {**doc, "version": version + 1}
    result = await collection.replace_one({"_id": doc["_id"], "version": version}, new)
    if result.matched_count == 0:
        raise ConcurrencyError(f"{collection.name}/{doc['_id']} changed since version {version}")
    return new
