"""Response bodies of intake's HTTP contract (API.md "intake: orders"), one per audience (issue 7).

``OrderInternal`` is what the company's own roles read (ops, warehouse, the other services):
the contact's full phone, priority, flags, holds, supply orders and every history reason.
``OrderPublic`` is what a storefront or an ERP reads about its own orders: no phone, no
internal flags or credit reasons. Fields are left out by model, never masked by slicing.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.intake.adapters import from_doc
from services.intake.domain.order import Line, Order, epoch_ms, utcnow
from services.intake.domain.stuck import INTERNAL_EVENTS


class ContactPublic(BaseModel):
    name: str


class ContactInternal(ContactPublic):
    phone: str = Field(description="internal roles only (R1.2)")


class ComponentPublic(BaseModel):
    sku: str
    quantity: int = Field(description="units of the component per unit of the line's bundle")


class LinePublic(BaseModel):
    sku: str
    name: str
    spec: str | None
    quantity: int
    unit_price: int
    amount: int
    components: list[ComponentPublic] = Field(
        default_factory=list,
        description="a bundle's components per unit, as at placement (R1.9): what is reserved, supplied "
        "and shipped for the line; empty for a plain product",
    )


def line_public(li: Line) -> LinePublic:
    parts = [ComponentPublic(sku=sku, quantity=qty) for sku, qty in li.components.items()]
    return LinePublic(sku=li.sku, name=li.name, spec=li.spec, quantity=li.quantity, unit_price=li.unit_price,
                      amount=li.amount, components=parts)  # fmt: skip


class HistoryPublic(BaseModel):
    at: datetime
    status: str | None = None
    event: str | None = None
    by: str
    reason: str


class SupplyOrderPublic(BaseModel):
    supply_order_id: str
    kind: str
    sku: str
    quantity: int
    expected_at: str
    status: str


class StepPublic(BaseModel):
    """A history step as the customer sees it: when and what, not the internal reasons."""

    at: datetime
    status: str | None = None
    event: str | None = None


class StuckView(BaseModel):
    """The oldest parked message of an order: where it waits for a person (issue 7)."""

    step: str = Field(description="the saga step the message belongs to (credit, stock, supply ...)")
    message_type: str
    message_id: str
    service: str = Field(description="whose parking queue holds it: <prefix>.<service>.parked")
    error: str
    since: datetime
    parked_messages: int = Field(description="how many messages of the order are parked, this one included")


class PaymentGate(BaseModel):
    """Where an order waits for money or a finance check (R3.2): what, how much, by when."""

    gate: str = Field(description="deposit | balance | payment | lc_check (shared.terms)")
    before: str = Field(description="supply (production or purchase) or shipping")
    due: int = Field(description="what must have been paid in all for the gate to open, minor units")
    outstanding: int = Field(description="due - paid, minor units")
    since: datetime
    expires_at: datetime = Field(description="unpaid then, the order is cancelled with its compensations")
    reminders_sent: int


class PaymentsView(BaseModel):
    """Money of the order (R3.2, R3.3, R7.1): received, refunded, the gates passed."""

    paid: int = Field(description="received, net of refunds, minor units")
    refunded: int
    payment_ids: list[str]
    refund_ids: list[str]
    gates_passed: list[str]
    checked_by: str | None = Field(description="finance's check of a letter of credit (lc terms)")


class ChangeView(BaseModel):
    """One change of the order (issue 8, R7.2, R4.2): what was asked, where it stands, how it ended."""

    change_id: str
    kind: str = Field(description="amendment | line_cancel | merge")
    merge_from: str | None = Field(None, description="a merge: the order whose lines were taken on")
    status: str = Field(description="holding_shipment (the carrier is booked) | absorbing (a merge) "
                        "| checking_supply | adjusting_credit | adjusting_stock | changing_supply "
                        "| applied | refused")  # fmt: skip
    by: str
    reason: str
    at: datetime
    total_before: int
    total_after: int
    lines: list[LinePublic] = Field(description="the order's lines once it is applied")
    outcome: str = Field(description="why it was refused, or what it did")
    ended_at: datetime | None = None


def change_view(change: Any) -> ChangeView:
    return ChangeView(change_id=change.change_id, kind=change.kind, status=change.status, by=change.by,
                      reason=change.reason, at=change.at, total_before=change.old_total,
                      total_after=change.total, lines=[line_public(li) for li in change.lines],
                      outcome=change.outcome, ended_at=change.ended_at,
                      merge_from=change.merge_from)  # fmt: skip


class ChangePreview(BaseModel):
    """What a change would do downstream, with nothing changed (issue 8, R7.2)."""

    order_id: str
    version: int = Field(description="send it back with the change: a 409 if the order moved meanwhile")
    status: str
    stock: list[dict[str, Any]] = Field(description="per SKU (bundles expanded): before, after, reserve or "
                                        "release, what is free now and would be short, supply to raise, "
                                        "shrink or cancel, whether production must agree")  # fmt: skip
    credit: dict[str, int] = Field(description="the hold before and after, and the change")
    total: dict[str, int]
    production_must_agree: list[str]
    shipment: str | None = Field(None, description="the carrier is booked (ready_to_ship): what happens "
                                 "to the shipment, held while the change runs and booked again")  # fmt: skip
    lines: list[dict[str, Any]]


class OrderPublic(BaseModel):
    """An order as its storefront or ERP sees it (R9.1): status, lines, totals, steps, tracking."""

    order_id: str
    status: str
    customer_id: str
    customer_name: str
    channel: str
    payment_terms: str | None
    required_by: date | None
    delivery_address: str
    contact: ContactPublic
    lines: list[LinePublic]
    discount: int
    freight: int
    subtotal: int
    total: int
    currency: str = "CNY"
    prices_include_tax: bool = True
    tax_rate_bp: int = Field(1300, description="the VAT rate applied, basis points (1300 = 13 %)")
    amount_due: int = Field(0, description="total - paid: what is still to be paid (R3.3)")
    payments: PaymentsView | None = None
    awaiting: PaymentGate | None = Field(None, description="the gate an awaiting_payment order waits at")
    remarks: str
    history: list[StepPublic]
    shipment_id: str | None
    carrier: str | None
    tracking_numbers: list[str]
    expected_delivery: date | None
    invoice_ids: list[str]
    returned_quantities: dict[str, int]
    created_at: datetime
    version: int = Field(0, description="changes with every write: send it with a change (issue 8)")
    changes: list[ChangeView] = Field(default_factory=list, description="amendments, line cancels, merges")
    merged_into: str | None = Field(None, description="a `merged` order: the order that took its lines")


class OrderInternal(OrderPublic):
    """An order as the company sees it: plus phone, priority, flags, hold, supply, reasons."""

    contact: ContactInternal
    priority: str
    flags: list[str]
    hold: str | None = Field(
        description="what an on_hold order waits for: credit, review (a reviewer, R2.1), approval "
        "(a manager, R2.2) or general_manager (the largest, after a manager)"
    )
    approval_tier: str = Field("", description="who decides: review, manager, general_manager; '' = rules")
    approval_reasons: list[str] = Field(default_factory=list, description="why a manager must decide (R2.2)")
    claimed_by: str | None = Field(None, description="the reviewer holding the order's claim (R2.3)")
    claimed_until: datetime | None = None
    history: list[HistoryPublic]  # type: ignore[assignment]
    supply_orders: list[SupplyOrderPublic]
    credit_notes: list[dict[str, Any]]
    stuck: StuckView | None = Field(
        default=None, description="a message of the order is parked: it waits for a person, not for a reply"
    )


class OrderPage(BaseModel):
    items: list[OrderInternal] | list[OrderPublic]
    next_cursor: str | None


def order_view(doc: dict[str, Any], internal: bool) -> OrderInternal | OrderPublic:
    """The order for its reader's audience (issue 7)."""
    full = order_internal(doc)
    if internal:
        return full
    public = full.model_dump(include=set(OrderPublic.model_fields))
    public["contact"] = {"name": full.contact.name}
    steps = [h for h in full.history if h.event not in INTERNAL_EVENTS]  # a parked message is ours
    public["history"] = [{"at": h.at, "status": h.status, "event": h.event} for h in steps]
    return OrderPublic.model_validate(public)


def _claim(order: Order) -> tuple[str | None, datetime | None]:
    """Who holds the order's review claim and until when; nobody once it expired (R2.3)."""
    if order.claim_by is None or order.claim_until_ms <= epoch_ms(utcnow()):
        return None, None
    return order.claim_by, datetime.fromtimestamp(order.claim_until_ms / 1000, UTC)


def _gate(order: Any) -> PaymentGate | None:
    pay = order.payments
    if order.status != "awaiting_payment" or pay.gate is None or pay.since is None or pay.expires_at is None:
        return None
    return PaymentGate(
        gate=pay.gate, before=pay.point or "", due=pay.due, outstanding=max(0, pay.due - pay.paid),
        since=pay.since, expires_at=pay.expires_at, reminders_sent=pay.reminders_sent,
    )  # fmt: skip


class ConfirmationDocument(BaseModel):
    """The order confirmation (R2.4): number, lines, total, delivery date, payment terms."""

    order_id: str
    version: int
    status: str = Field(description="none | sent | accepted | changes_requested")
    sent_at: datetime | None
    due_at: datetime | None = Field(description="when the first one was due (2 h after receipt)")
    customer_id: str
    customer_name: str
    delivery_address: str
    lines: list[LinePublic]
    discount: int
    freight: int
    total: int
    currency: str
    prices_include_tax: bool
    required_by: date | None
    payment_terms: str | None
    changes_requested: list[dict[str, Any]]
    late: bool = Field(description="the first confirmation went out after its deadline, or has not yet")


def confirmation_document(doc: dict[str, Any]) -> ConfirmationDocument:
    order = from_doc(doc)
    conf = order.confirmation
    return ConfirmationDocument(
        order_id=order.order_id, version=conf.version, status=conf.status, sent_at=conf.sent_at,
        due_at=conf.due_at, customer_id=order.customer_id, customer_name=order.customer_name,
        delivery_address=order.delivery_address,
        lines=[line_public(li) for li in order.lines],
        discount=order.discount, freight=order.freight, total=order.total, currency=order.currency,
        prices_include_tax=order.prices_include_tax, required_by=order.required_by,
        payment_terms=order.payment_terms,
        changes_requested=[{"at": r["at"], "text": r["text"], "version": r.get("version")}
                           for r in conf.requests],
        late=conf.breached_at is not None,
    )  # fmt: skip


def confirmation_html(c: ConfirmationDocument) -> str:
    """The printable confirmation (R2.4); every value escaped."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(ln.sku)}</td><td>{e(ln.name)}{' / ' + e(ln.spec) if ln.spec else ''}</td>"
        f"<td class=n>{ln.quantity}</td><td class=n>{_money(ln.unit_price)}</td>"
        f"<td class=n>{_money(ln.amount)}</td></tr>"
        for ln in c.lines
    )
    basis = "incl. VAT" if c.prices_include_tax else "excl. VAT"
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>Order confirmation {e(c.order_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;border-bottom:1px solid #ccc}"
        ".n{text-align:right}</style></head><body>"
        f"<h1>Order confirmation 订单确认单 {e(c.order_id)}</h1>"
        f"<p>Version {c.version}, {e(c.status)}; sent {e(c.sent_at.isoformat() if c.sent_at else '-')}</p>"
        f"<p>{e(c.customer_name)} ({e(c.customer_id)})<br>{e(c.delivery_address)}</p>"
        "<table><tr><th>SKU</th><th>Item</th><th>Qty</th><th>Unit price</th><th>Amount</th></tr>"
        f"{rows}</table>"
        f"<p>Discount {_money(c.discount)}, freight {_money(c.freight)}; "
        f"<b>total {_money(c.total)} {e(c.currency)}</b> ({basis})</p>"
        f"<p>Delivery by {e(c.required_by.isoformat() if c.required_by else '-')}; "
        f"payment terms {e(c.payment_terms or '-')}</p></body></html>"
    )


def _money(minor: int) -> str:
    return f"{minor // 100:,}.{minor % 100:02d}" if minor >= 0 else f"-{_money(-minor)}"


class ReviewQueue(BaseModel):
    """`GET /review-queue` and `POST /review-queue/claims`: orders waiting for a person (R2.1-R2.3),
    urgent, key, normal, then oldest first, each with why it is there and who holds its claim."""

    items: list[OrderInternal]


class AwaitingPage(BaseModel):
    """`GET /finance/awaiting-payment`: orders waiting for money, oldest first (R3.2)."""

    items: list[OrderInternal] | list[OrderPublic]
    next_cursor: str | None


def order_internal(doc: dict[str, Any]) -> OrderInternal:
    order = from_doc(doc)
    return OrderInternal(
        order_id=order.order_id,
        status=order.status,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        channel=order.channel,
        payment_terms=order.payment_terms,
        required_by=order.required_by,
        delivery_address=order.delivery_address,
        contact=ContactInternal(name=order.contact.name, phone=order.contact.phone),
        lines=[line_public(li) for li in order.lines],
        discount=order.discount,
        freight=order.freight,
        subtotal=order.subtotal,
        total=order.total,
        currency=order.currency,
        prices_include_tax=order.prices_include_tax,
        tax_rate_bp=order.tax_rate_bp,
        amount_due=order.amount_due,
        payments=PaymentsView(
            paid=order.payments.paid,
            refunded=order.payments.refunded,
            payment_ids=list(order.payments.received),
            refund_ids=order.payments.refund_ids,
            gates_passed=order.payments.passed,
            checked_by=order.payments.checked_by,
        ),
        awaiting=_gate(order),
        remarks=order.remarks,
        priority=order.priority,
        flags=order.flags,
        hold=order.saga.hold,
        approval_tier=order.approval_tier,
        approval_reasons=order.approval_reasons,
        claimed_by=_claim(order)[0],
        claimed_until=_claim(order)[1],
        history=[
            HistoryPublic(at=h.at, status=h.status, event=h.event, by=h.by, reason=h.reason)
            for h in order.history
        ],
        shipment_id=order.shipment_id,
        carrier=order.carrier,
        tracking_numbers=order.tracking_numbers,
        supply_orders=[SupplyOrderPublic(**vars(so)) for so in order.supply_orders.values()],
        expected_delivery=order.expected_delivery,
        invoice_ids=order.invoice_ids,
        credit_notes=order.credit_notes,
        stuck=_stuck(order),
        returned_quantities=order.returned_quantities,
        version=int(doc.get("version", 0)),
        changes=[change_view(change) for change in order.changes],
        merged_into=order.merged_into,
        created_at=order.created_at,
    )


def _stuck(order: Order) -> StuckView | None:
    if not order.stuck:
        return None
    oldest = min(order.stuck, key=lambda entry: entry.since)
    return StuckView(
        step=oldest.step,
        message_type=oldest.message_type,
        message_id=oldest.message_id,
        service=oldest.service,
        error=oldest.error,
        since=oldest.since,
        parked_messages=len(order.stuck),
    )
