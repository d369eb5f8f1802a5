"""Start-up migration of billing's pre-issue-5 layout, where a customer document held every order's
credit entry (``orders``) and payment (``payments``), to one account per order and a customer with
running totals and marks (exposure.py). Idempotent and resumable: accounts are inserted once
(a duplicate key means done), then one conditional write per customer swaps its maps for the totals
and marks and keeps the old maps under ``legacy`` (records are never deleted). Old order links
that were released first (tombstones) become closed accounts, so a late reserve still does nothing.

Run by ``main.bootstrap`` before the consumers start; stop billing replicas of before issue 5
first (they would keep writing the old layout).
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.billing.adapters.mongo_accounts import new_doc
from services.billing.adapters.mongo_customers import mark_path
from services.billing.adapters.mongo_invoices import invoice_key
from services.billing.domain import HELD, INVOICED, RELEASED, OrderAccount, Payment
from shared.keys import decode_key

log = logging.getLogger(__name__)
Doc = dict[str, Any]


def account_of(customer: Doc, order_id: str, entry: Doc, invoiced: int | None) -> OrderAccount:
    """The account an old entry stands for (its payments from the customer's old map)."""
    payments = {
        p["reference"]: Payment(p["reference"], p["order_id"], p["amount"], p["received_at"])
        for p in (customer.get("payments") or {}).values()
        if p.get("order_id") == order_id
    }
    state = entry.get("state", HELD)
    account = OrderAccount(
        order_id, customer["_id"], payment_terms=customer.get("payment_terms", ""),
        total=invoiced if invoiced is not None else entry.get("requested", 0), state=state,
        requested=entry.get("requested", 0), forced=bool(entry.get("forced")),
        released=entry.get("released", 0),
        payments=payments, invoice_id=entry.get("invoice_id"), invoiced=invoiced or 0,
        credit_notes={decode_key(k): v for k, v in (entry.get("credit_notes") or {}).items()},
        closed="released" if state == RELEASED else "",
        answer={"skipped": "skipped", "refused": "refused"}.get(state, "reserved"),
        answer_amount=entry.get("held", 0),
    )  # fmt: skip
    if state == INVOICED and invoiced is None:  # no invoice document found: keep the old receivable
        account.invoiced = account.total = entry.get("receivable", 0) + account.paid_total + account.credited
    account.seq = 1 if account.mark().exposure else 0
    return account


async def migrate(customers: AsyncCollection[Doc], accounts: AsyncCollection[Doc],
                  invoices: AsyncCollection[Doc], links: AsyncCollection[Doc]) -> int:  # fmt: skip
    """Move every customer still in the old layout; returns how many were moved."""
    moved = 0
    async for customer in customers.find({"orders": {"$exists": True}}):
        held = receivable = 0
        marks: Doc = {}
        for key, entry in (customer.get("orders") or {}).items():
            order_id = decode_key(key)
            invoice = (
                await invoices.find_one({"key": invoice_key(order_id)}) if entry.get("invoice_id") else None
            )
            account = account_of(customer, order_id, entry, invoice["total"] if invoice else None)
            try:
                await accounts.insert_one({**new_doc(account), "version": 1})
            except DuplicateKeyError:
                pass  # moved by an earlier, interrupted run
            mark = account.mark()
            held, receivable = held + mark.held, receivable + mark.receivable
            if mark.seq:
                marks[mark_path(order_id)] = {"h": mark.held, "r": mark.receivable, "s": mark.seq}
        done = await customers.update_one(
            {"_id": customer["_id"], "version": customer.get("version", 0)},
            {"$set": {"held": held, "receivable": receivable, "exposure": held + receivable, "unapplied": 0,
                      "legacy": {"orders": customer.get("orders"), "payments": customer.get("payments")},
                      "marks": {k.split(".", 1)[1]: v for k, v in marks.items()}},
             "$unset": {"orders": "", "payments": ""}, "$inc": {"version": 1}},
        )  # fmt: skip
        moved += done.modified_count
    async for link in links.find({"state": "released", "migrated": {"$exists": False}}):
        try:
            closed = OrderAccount(link["_id"], None, state=RELEASED, closed="released")
            await accounts.insert_one({**new_doc(closed), "version": 1})
        except DuplicateKeyError:
            pass  # the order has its account (from its customer's entry, or an earlier run)
        await links.update_one({"_id": link["_id"]}, {"$set": {"migrated": "issue-5"}})
    if moved:
        log.info("billing moved customers to per-order accounts", extra={"customers": moved})
    return moved
