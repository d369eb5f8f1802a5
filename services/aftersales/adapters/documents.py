"""Return <-> document mapping. SKUs are never map keys (a '.' or '$' in one would break dotted
paths on real MongoDB), so per-SKU data is stored as lists of sub-documents and written whole."""

from __future__ import annotations

from typing import Any

from services.aftersales.domain import (
    HistoryEntry,
    Inspection,
    Return,
    ReturnLine,
    ReturnReason,
    Status,
)

Doc = dict[str, Any]


def units_to_list(units: dict[str, int]) -> list[Doc]:
    return [{"sku": sku, "quantity": qty} for sku, qty in units.items()]


def units_from_list(raw: list[Doc]) -> dict[str, int]:
    return {item["sku"]: int(item["quantity"]) for item in raw}


def _line_doc(line: ReturnLine) -> Doc:
    parts = [{"sku": sku, "quantity": qty} for sku, qty in line.components]  # a bundle's (R1.9)
    return {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount,
            "components": parts}  # fmt: skip


def to_doc(ret: Return) -> Doc:
    """The return's saga state and history; ``version``, ``outbox`` and ``outbox_at`` are the store's."""
    inspection = ret.inspection
    return {
        "_id": ret.return_id,
        "order_id": ret.order_id,
        "customer_id": ret.customer_id,
        "order_seq": ret.order_seq,
        "reason": ret.reason,
        "reason_code": ret.reason_code.value,
        "freight_payer": ret.freight_payer,
        "lines": [_line_doc(ln) for ln in ret.lines],
        "order_total": ret.order_total,
        "ordered_units": units_to_list(ret.ordered_units),
        "status": ret.status.value,
        "requested_at": ret.requested_at,
        "updated_at": ret.history[-1].at if ret.history else ret.requested_at,
        "inspection": None
        if inspection is None
        else {"result": inspection.result, "by": inspection.by, "at": inspection.at, "note": inspection.note},
        "refund_total": ret.refund_total,
        "credit_note_id": ret.credit_note_id,
        "credit_note_total": ret.credit_note_total,
        "history": [
            {"at": h.at, "event": h.event, "status": h.status, "by": h.by, "reason": h.reason}
            for h in ret.history
        ],
    }


def _line(raw: Doc) -> ReturnLine:
    """A returned line; one stored before bundles (R1.9) has no components: a plain product."""
    parts = tuple((c["sku"], int(c["quantity"])) for c in raw.get("components") or ())
    return ReturnLine(raw["sku"], raw["quantity"], raw["unit_price"], parts)


def from_doc(doc: Doc) -> Return:
    raw_inspection = doc.get("inspection")
    return Return(
        return_id=doc["_id"],
        order_id=doc["order_id"],
        customer_id=doc["customer_id"],
        order_seq=doc["order_seq"],
        reason=doc["reason"],
        reason_code=ReturnReason(doc["reason_code"]),
        freight_payer=doc["freight_payer"],
        lines=tuple(_line(ln) for ln in doc["lines"]),
        order_total=doc["order_total"],
        ordered_units=units_from_list(doc["ordered_units"]),
        status=Status(doc["status"]),
        requested_at=doc["requested_at"],
        inspection=Inspection(**raw_inspection) if raw_inspection else None,
        refund_total=doc.get("refund_total"),
        credit_note_id=doc.get("credit_note_id"),
        credit_note_total=doc.get("credit_note_total"),
        history=[HistoryEntry(**h) for h in doc.get("history", [])],
        version=doc.get("version", 0),
    )
