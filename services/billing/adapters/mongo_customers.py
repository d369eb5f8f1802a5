"""Customers in MongoDB: terms, running totals and one small mark per order (issue 5).

``{_id, name, payment_terms, credit_limit, taxpayer, tax_number, held, receivable, exposure,
unapplied, version, marks: {<order_id>: {h, r, s}}}``. The totals are moved only by ``move``: one
``find_one_and_update`` that replaces an order's mark (matched by its sequence ``s``) and ``$inc``s
the totals by the difference, with the credit limit in the same filter for a credit check
(services/billing/exposure.py has the argument). Reads leave the marks out (projection), so a read
costs the same with any number of orders; a mark is three integers.

The embedded store answers a projection of a dotted path (``marks.<id>``) with the dotted name as a
flat key instead of a nested document (docs/STORE-NOTES.md); ``_mark`` reads both shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from services.billing.domain import NO_MARK, Customer, Mark
from shared.envelope import Envelope, utcnow
from shared.keys import encode_key
from shared.outbox import Outbox
from shared.store import insert_doc

Doc = dict[str, Any]
TERMS = ("name", "payment_terms", "credit_limit", "taxpayer", "tax_number")
NO_MARKS = {"marks": 0}


def new_doc(customer: Customer) -> Doc:
    now = utcnow()
    return {
        "_id": customer.customer_id,
        **{f: getattr(customer, f) for f in TERMS},
        "held": customer.held,
        "receivable": customer.receivable,
        "exposure": customer.exposure,
        "unapplied": customer.unapplied,
        "marks": {},
        "created_at": now,
        "updated_at": now,
    }


def from_doc(doc: Doc) -> Customer:
    return Customer(
        doc["_id"],
        doc["name"],
        doc["payment_terms"],
        doc["credit_limit"],
        taxpayer=doc.get("taxpayer") or "small_scale",
        tax_number=doc.get("tax_number") or "",
        held=doc.get("held", 0),
        receivable=doc.get("receivable", 0),
        unapplied=doc.get("unapplied", 0),
        version=doc.get("version", 0),
    )


def mark_path(order_id: str) -> str:
    return f"marks.{encode_key(order_id)}"


def _mark(doc: Doc, order_id: str) -> Mark:
    key = encode_key(order_id)
    raw = (doc.get("marks") or {}).get(key) or doc.get(f"marks.{key}")
    return Mark(raw.get("h", 0), raw.get("r", 0), raw.get("s", 0)) if raw else NO_MARK


def move_filter(customer_id: str, order_id: str, old: Mark, new: Mark, within: int | None) -> Doc:
    """Still ``old`` (absent for NO_MARK: seq 0 is never written) and, for a check, within the limit."""
    path = mark_path(order_id)
    where: Doc = {"_id": customer_id, f"{path}.s": old.seq if old.seq else {"$exists": False}}
    if within is not None:
        where["credit_limit"] = within
        where["exposure"] = {"$lte": within - (new.exposure - old.exposure)}
    return where


def move_update(order_id: str, old: Mark, new: Mark) -> Doc:
    path = mark_path(order_id)
    held, receivable = new.held - old.held, new.receivable - old.receivable
    return {
        "$inc": {"held": held, "receivable": receivable, "exposure": held + receivable, "version": 1},
        "$set": {f"{path}.h": new.held, f"{path}.r": new.receivable, f"{path}.s": new.seq},
    }


class MongoCustomerStore:
    """Billing's ``CustomerStore`` (services/billing/ports.py) on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc], outbox: Outbox) -> None:
        self.collection = collection
        self.outbox = outbox

    async def create_indexes(self) -> None:
        await self.collection.create_index("exposure")

    async def get(self, customer_id: str) -> Customer | None:
        doc = await self.collection.find_one({"_id": customer_id}, NO_MARKS)
        return from_doc(doc) if doc else None

    async def add(self, customer: Customer) -> None:
        """Insert a new customer; DuplicateKeyError tells a racing PUT."""
        await insert_doc(self.collection, new_doc(customer))

    async def set_terms(self, customer: Customer) -> Customer:
        terms = {f: getattr(customer, f) for f in TERMS}
        doc = await self.collection.find_one_and_update(
            {"_id": customer.customer_id},
            {"$set": {**terms, "updated_at": utcnow()}, "$inc": {"version": 1}},
            projection=NO_MARKS,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None, "customers are never deleted"
        return from_doc(doc)

    async def mark_of(self, customer_id: str, order_id: str) -> tuple[Customer, Mark] | None:
        fields = {f: 1 for f in (*TERMS, "held", "receivable", "unapplied", "version")}
        doc = await self.collection.find_one({"_id": customer_id}, {**fields, mark_path(order_id): 1})
        return (from_doc(doc), _mark(doc, order_id)) if doc else None

    async def move(
        self, customer_id: str, order_id: str, old: Mark, new: Mark, within: int | None = None
    ) -> Customer | None:
        doc = await self.collection.find_one_and_update(
            move_filter(customer_id, order_id, old, new, within),
            move_update(order_id, old, new),
            projection=NO_MARKS,
            return_document=ReturnDocument.AFTER,
        )
        return from_doc(doc) if doc else None

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        await self.outbox.publish(list(envelopes))
