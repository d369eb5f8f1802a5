"""Refund ledgers in MongoDB: one document per order, ``refunds`` keyed by return id."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from services.aftersales.domain import RefundLedger, SettledRefund
from shared.aggregates import Loaded
from shared.envelope import Envelope
from shared.errors import ConcurrencyError
from shared.store import insert_doc, replace_doc

from .documents import Doc, units_from_list, units_to_list


def ledger_from_doc(order_id: str, doc: Doc | None) -> RefundLedger:
    if doc is None:
        return RefundLedger(order_id)
    refunds = {
        return_id: SettledRefund(units=units_from_list(raw["units"]), total=int(raw["total"]))
        for return_id, raw in doc.get("refunds", {}).items()
    }
    return RefundLedger(order_id, refunds=refunds, version=int(doc["version"]))


def ledger_doc(ledger: RefundLedger) -> Doc:
    return {
        "_id": ledger.order_id,
        "refunds": {
            return_id: {"units": units_to_list(dict(refund.units)), "total": refund.total}
            for return_id, refund in ledger.refunds.items()
        },
        "refunded": ledger.refunded(),
        "version": ledger.version,
    }


class MongoRefundLedgerStore:
    """Aftersales' ``RefundLedgerStore`` on MongoDB: whole-document writes guarded by ``version``,
    so two returns of one order settle one after the other."""

    def __init__(self, ledgers: AsyncCollection[Doc]) -> None:
        self.ledgers = ledgers

    async def load(self, key: str) -> Loaded[RefundLedger]:
        """The order's ledger, or an empty one (version 0) when nothing was refunded yet."""
        doc = await self.ledgers.find_one({"_id": key})
        return Loaded(ledger_from_doc(key, doc), doc or {})

    async def save(self, loaded: Loaded[RefundLedger], envelopes: Sequence[Envelope]) -> Loaded[RefundLedger]:
        """Write the ledger; ConcurrencyError when another return of the order settled meanwhile."""
        assert not envelopes, "a refund ledger carries no messages"
        ledger = loaded.aggregate
        if ledger.version == 0:
            try:
                written = await insert_doc(self.ledgers, ledger_doc(ledger))
            except DuplicateKeyError as exc:
                raise ConcurrencyError(f"refund ledger of {ledger.order_id} was created meanwhile") from exc
        else:
            written = await replace_doc(self.ledgers, ledger_doc(ledger))
        ledger.version = int(written["version"])
        return Loaded(ledger, written)

    async def flush(self, saved: Loaded[RefundLedger]) -> None:
        return None  # nothing is ever staged in a ledger

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        assert not envelopes, "a refund ledger carries no messages"

    def fingerprint(self, aggregate: RefundLedger) -> object:
        return ledger_doc(aggregate)["refunds"]
