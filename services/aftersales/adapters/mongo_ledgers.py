"""Refund ledgers in MongoDB: one document per order, ``refunds`` keyed by return id."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.aftersales.domain import RefundLedger, SettledRefund
from shared.errors import ConcurrencyError
from shared.store import insert_doc, replace_doc

from .documents import Doc, units_from_list, units_to_list


class MongoRefundLedgerStore:
    """Whole-document writes guarded by ``version``: two returns of one order settle one at a time."""

    def __init__(self, ledgers: AsyncCollection[Doc]) -> None:
        self.ledgers = ledgers

    async def get(self, order_id: str) -> RefundLedger:
        """The order's ledger, or an empty one (version 0) when nothing was refunded yet."""
        doc = await self.ledgers.find_one({"_id": order_id})
        if doc is None:
            return RefundLedger(order_id)
        refunds = {
            return_id: SettledRefund(units=units_from_list(raw["units"]), total=int(raw["total"]))
            for return_id, raw in doc.get("refunds", {}).items()
        }
        return RefundLedger(order_id, refunds=refunds, version=int(doc["version"]))

    async def save(self, ledger: RefundLedger) -> None:
        """Write the ledger; ConcurrencyError when another return of the order settled meanwhile."""
        doc: Doc = {
            "_id": ledger.order_id,
            "refunds": {
                return_id: {"units": units_to_list(dict(refund.units)), "total": refund.total}
                for return_id, refund in ledger.refunds.items()
            },
            "refunded": ledger.refunded(),
            "version": ledger.version,
        }
        if ledger.version == 0:
            try:
                written = await insert_doc(self.ledgers, doc)
            except DuplicateKeyError as exc:
                raise ConcurrencyError(f"refund ledger of {ledger.order_id} was created meanwhile") from exc
        else:
            written = await replace_doc(self.ledgers, doc)
        ledger.version = int(written["version"])
