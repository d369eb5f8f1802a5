"""Order <-> document mapping. Maps keyed by outside ids (SKUs, supply orders, returns) are stored
as lists, so an id with a `.` or `$` never becomes a field name (STORE.md); dates as ISO strings."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.intake.domain.numbering import parse_order_number
from services.intake.domain.order import (
    Change,
    Confirmation,
    Contact,
    HistoryEntry,
    Line,
    Order,
    Payments,
    SagaState,
    Stuck,
    SupplyOrder,
)
from services.intake.domain.screening import PastOrder
from shared.store import plain

Doc = dict[str, Any]


def sequence(order_id: str) -> int:
    """A number that sorts like the order numbers do (serials past 999 included): yyyymm, serial."""
    parsed = parse_order_number(order_id)
    if parsed is None:
        raise ValueError(f"not an order number: {order_id}")
    return int(parsed[0]) * 10**9 + parsed[1]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _payments(raw: Doc | None) -> Payments:
    """Orders stored before issue 5 have no payments: the defaults (nothing paid, no gate)."""
    if not raw:
        return Payments()
    received = {p["payment_id"]: p["amount"] for p in raw.get("received") or []}
    return Payments(**{**raw, "received": received})


def _payments_fields(payments: Payments) -> Doc:
    fields = plain(payments)
    fields["received"] = [{"payment_id": p, "amount": a} for p, a in payments.received.items()]
    return fields


def _line_fields(line: Line) -> Doc:
    """A line with its amount, and a bundle's components as ``[{sku, quantity}]`` (R1.9)."""
    fields = {**plain(line), "amount": line.amount}
    fields["components"] = [{"sku": sku, "quantity": qty} for sku, qty in line.components.items()]
    return fields


def _line(li: Doc) -> Line:
    return Line(
        sku=li["sku"],
        name=li["name"],
        quantity=li["quantity"],
        unit_price=li["unit_price"],
        spec=li.get("spec"),
        # Lines stored before bundles (R1.9) have no components: plain products.
        components={c["sku"]: c["quantity"] for c in li.get("components") or ()},
    )


def _change_fields(change: Change) -> Doc:
    """A change (issue 8) with its lines as lines are stored and its maps as lists."""
    fields = plain(change)
    fields["lines"] = [_line_fields(line) for line in change.lines]
    fields["old_lines"] = [_line_fields(line) for line in change.old_lines]
    fields["missing"] = [{"sku": s, "quantity": q} for s, q in change.missing.items()]
    fields["required_by"] = _iso(change.required_by)
    return fields


def _change(raw: Doc) -> Change:
    return Change(**{
        **raw,
        "lines": [_line(li) for li in raw["lines"]],
        "old_lines": [_line(li) for li in raw["old_lines"]],
        "missing": {m["sku"]: m["quantity"] for m in raw.get("missing") or []},
        "required_by": _date(raw.get("required_by")),
    })  # fmt: skip


def to_fields(order: Order) -> Doc:
    """Every field the order owns in its document (version, outbox and trace are the store's)."""
    return {
        "_id": order.order_id,
        "seq": sequence(order.order_id),
        "customer_id": order.customer_id,
        "customer_name": order.customer_name,
        "channel": order.channel,
        "payment_terms": order.payment_terms,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "tax_rate_bp": order.tax_rate_bp,
        "payments": _payments_fields(order.payments),
        "confirmation": plain(order.confirmation),
        # GET /confirmation-breaches asks for this (R2.4).
        "confirmation_breached_at": order.confirmation.breached_at,
        # What the finance view (GET /finance/awaiting-payment) filters and sorts on.
        "awaiting_payment_since": order.payments.since if order.status == "awaiting_payment" else None,
        "amount_due": order.amount_due,
        "required_by": _iso(order.required_by),
        "delivery_address": order.delivery_address,
        "contact": plain(order.contact),
        "lines": [_line_fields(line) for line in order.lines],
        "discount": order.discount,
        "freight": order.freight,
        "total": order.total,  # denormalised for readers of the raw store; recomputed on load
        "remarks": order.remarks,
        "priority": order.priority,
        "needs_approval": order.needs_approval,
        "approval_reasons": list(order.approval_reasons),
        "approval_tier": order.approval_tier,
        "signed_by": list(order.signed_by),
        "claim_by": order.claim_by,
        "claim_until_ms": order.claim_until_ms,
        # The review queue's order (R2.3): urgent, key, normal, then oldest first.
        "priority_rank": {"urgent": 0, "key": 1}.get(order.priority, 2),
        "flags": list(order.flags),
        "status": order.status,
        "history": [plain(entry) for entry in order.history],
        "saga": plain(order.saga),
        "shipment_id": order.shipment_id,
        "carrier": order.carrier,
        "tracking_numbers": list(order.tracking_numbers),
        "supply_orders": [plain(so) for so in order.supply_orders.values()],
        "expected_delivery": _iso(order.expected_delivery),
        "invoice_ids": list(order.invoice_ids),
        "credit_notes": list(order.credit_notes),
        "returned_quantities": [{"sku": s, "quantity": q} for s, q in order.returned_quantities.items()],
        "returns": [{"return_id": r, "outcome": o} for r, o in order.returns.items()],
        # Parked messages of the order (issue 7); ``stuck_since`` is what GET /orders?stuck= asks for.
        "stuck": [plain(entry) for entry in order.stuck],
        "stuck_since": min((entry.since for entry in order.stuck), default=None),
        "created_at": order.created_at,
        "changes": [_change_fields(change) for change in order.changes],
        "merged_into": order.merged_into,
    }


def from_doc(doc: Doc) -> Order:
    """The order a document holds."""
    lines = [_line(li) for li in doc["lines"]]
    return Order(
        order_id=doc["_id"],
        customer_id=doc["customer_id"],
        customer_name=doc.get("customer_name", ""),
        channel=doc["channel"],
        payment_terms=doc.get("payment_terms"),
        currency=doc.get("currency", "CNY"),
        prices_include_tax=doc.get("prices_include_tax", True),
        tax_rate_bp=doc.get("tax_rate_bp", 1300),
        payments=_payments(doc.get("payments")),
        confirmation=Confirmation(**(doc.get("confirmation") or {})),
        required_by=_date(doc.get("required_by")),
        delivery_address=doc["delivery_address"],
        contact=Contact(**doc["contact"]),
        lines=lines,
        discount=doc.get("discount", 0),
        freight=doc.get("freight", 0),
        remarks=doc.get("remarks", ""),
        priority=doc.get("priority", "normal"),
        needs_approval=doc.get("needs_approval", False),
        approval_reasons=list(doc.get("approval_reasons") or []),
        approval_tier=doc.get("approval_tier", "manager" if doc.get("needs_approval") else ""),
        signed_by=list(doc.get("signed_by") or []),
        claim_by=doc.get("claim_by"),
        claim_until_ms=int(doc.get("claim_until_ms") or 0),
        flags=list(doc.get("flags") or []),
        status=doc["status"],
        history=[HistoryEntry(**entry) for entry in doc.get("history") or []],
        saga=SagaState(**(doc.get("saga") or {})),
        shipment_id=doc.get("shipment_id"),
        carrier=doc.get("carrier"),
        tracking_numbers=list(doc.get("tracking_numbers") or []),
        supply_orders={so["supply_order_id"]: SupplyOrder(**so) for so in doc.get("supply_orders") or []},
        expected_delivery=_date(doc.get("expected_delivery")),
        invoice_ids=list(doc.get("invoice_ids") or []),
        credit_notes=list(doc.get("credit_notes") or []),
        returned_quantities={r["sku"]: r["quantity"] for r in doc.get("returned_quantities") or []},
        returns={r["return_id"]: r["outcome"] for r in doc.get("returns") or []},
        stuck=[Stuck(**entry) for entry in doc.get("stuck") or []],
        created_at=doc["created_at"],
        changes=[_change(raw) for raw in doc.get("changes") or []],  # none before issue 8
        merged_into=doc.get("merged_into"),
    )


PAST_ORDER_FIELDS = {"delivery_address": 1, "lines": 1, "created_at": 1, "status": 1, "contact": 1}


def past_order(doc: Doc) -> PastOrder:
    """The part of an earlier order that screening compares with a new one (R1.6)."""
    quantities: dict[str, int] = {}
    for line in doc["lines"]:
        quantities[line["sku"]] = quantities.get(line["sku"], 0) + line["quantity"]
    contact = doc.get("contact") or {}
    return PastOrder(doc["delivery_address"], quantities, doc["created_at"], doc["status"],
                     phone=contact.get("phone", ""), contact_name=contact.get("name", ""))  # fmt: skip
