"""The order saga (R2-R7, docs/ARCHITECTURE.md): every way an order moves, in one file.

    place -> pending_review (ReserveCredit)
    pending_review --CreditReserved--> approved (ReserveStock)   [on_hold first when R2.2 applies]
    pending_review --CreditLimitExceeded--> on_hold --approve--> pending_review (ReserveCredit force)
                                                    --reject---> rejected
    approved --StockReserved--> ready_to_ship (CreateShipment)
    approved --StockShort--> awaiting_stock (RaiseSupply) --SupplyRaised--> expected date (R4.2)
    awaiting_stock --SupplyCompleted--> (ReceiveSupply) ... --StockReserved--> ready_to_ship
    ready_to_ship --ShipmentCreated--> tracking number recorded (R5.2)
    ready_to_ship --ShipmentDispatched--> shipped (CommitStock + IssueInvoice)
    shipped --ShipmentDelivered--> delivered --InvoiceIssued--> completed (either order, R5.4)
    ready_to_ship | shipped --ShipmentDelayed--> flag + history, a person acts (R5.3)
    shipped.. --ReturnCompleted--> returned | partially_returned (R8.3)
    cancel -> cancelling; each started step compensated newest first, one at a time -> cancelled
    cancelling --ShipmentDispatched--> shipped: the goods left first, so it becomes a return (R7.3)

Tables: STEPS (command and compensation of each step) and REPLIES (which status expects which
reply, and the reaction). A reply the state has already absorbed, or that the current status does
not expect, changes nothing and sends nothing: replies may be redelivered and reordered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.intake.domain.errors import InvalidTransition, NotOnHold, OrderInvalid, OrderShipped
from services.intake.domain.order import SHIPPED_OR_LATER, Contact, Order, SupplyOrder, utcnow
from services.intake.domain.screening import PastOrder, Policy, history_flags, plausibility_flags, priority
from services.intake.domain.validation import (
    Catalogue,
    OrderRequest,
    below_catalogue_price,
    build_lines,
    validate,
)
from shared.contracts import (
    CancelShipment,
    CancelSupply,
    Command,
    CommitStock,
    CreateShipment,
    CreditLimitExceeded,
    CreditReleased,
    CreditReserved,
    Event,
    InvoiceIssued,
    IssueInvoice,
    LineQty,
    PricedLine,
    RaiseSupply,
    ReceiveSupply,
    ReleaseCredit,
    ReleaseStock,
    ReserveCredit,
    ReserveStock,
    ReturnCompleted,
    ReturnRejected,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelayed,
    ShipmentDelivered,
    ShipmentDispatched,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
    StockShort,
    SupplyCancelled,
    SupplyCompleted,
    SupplyRaised,
)


@dataclass(frozen=True)
class Step:
    """A saga step: the command that starts it and the compensation (with its reply) that undoes it."""

    name: str
    command: type[Command]
    compensation: type[Command] | None
    compensated_by: type[Event] | None


# In the order steps start; cancellation walks it backwards (newest first, R7.1).
STEPS: tuple[Step, ...] = (
    Step("credit", ReserveCredit, ReleaseCredit, CreditReleased),
    Step("stock", ReserveStock, ReleaseStock, StockReleased),  # ReleaseStock also undoes ReceiveSupply
    Step("supply", RaiseSupply, CancelSupply, SupplyCancelled),
    Step("shipment", CreateShipment, CancelShipment, ShipmentCancelled),
    Step("commit", CommitStock, None, None),  # after dispatch a cancellation is a return (R7.3)
    Step("invoice", IssueInvoice, None, None),  # reversed by a credit note, never edited (R6.2)
)
_STEP_BY_NAME = {step.name: step for step in STEPS}
_UNDONE_BY = {step.compensated_by: step.name for step in STEPS if step.compensated_by}
_COMPENSABLE = ("started", "done")  # a started step may be in flight: it is compensated too


# --- starting steps ---------------------------------------------------------------------------


def _start(order: Order, step: str, command: Command) -> Command:
    """Record the step as started (its command is about to be staged) and return the command."""
    assert isinstance(command, _STEP_BY_NAME[step].command)
    order.saga.steps[step] = "started"
    return command


def line_quantities(order: Order) -> list[LineQty]:
    """Units per SKU as message lines (two specs of one SKU are one reservation)."""
    return [LineQty(sku=sku, quantity=qty) for sku, qty in order.quantities().items()]


def _reserve_credit(order: Order, force: bool = False) -> Command:
    command = ReserveCredit(
        order_id=order.order_id, customer_id=order.customer_id, amount=order.total, force=force
    )
    return _start(order, "credit", command)


def _reserve_stock(order: Order, by: str, reason: str, at: datetime) -> list[Command]:
    order.set_status("approved", by, reason, at)
    command = ReserveStock(order_id=order.order_id, lines=line_quantities(order), priority=order.priority)  # type: ignore[arg-type]
    return [_start(order, "stock", command)]


def _create_shipment(order: Order, by: str, reason: str, at: datetime) -> list[Command]:
    order.set_status("ready_to_ship", by, reason, at)
    command = CreateShipment(
        order_id=order.order_id,
        customer_id=order.customer_id,
        delivery_address=order.delivery_address,
        contact_name=order.contact.name,
        contact_phone=order.contact.phone,
        amount=order.total,
        lines=line_quantities(order),
        priority=order.priority,  # type: ignore[arg-type]
    )
    return [_start(order, "shipment", command)]


def _ship(order: Order, by: str, reason: str, at: datetime) -> list[Command]:
    """The goods left: stock is committed and the invoice requested (R6.1)."""
    order.saga.steps["shipment"] = "done"
    order.set_status("shipped", by, reason, at)
    invoice = IssueInvoice(
        order_id=order.order_id,
        customer_id=order.customer_id,
        discount=order.discount,
        freight=order.freight,
        total=order.total,
        lines=[
            PricedLine(sku=li.sku, quantity=li.quantity, unit_price=li.unit_price, amount=li.amount)
            for li in order.lines
        ],
    )
    return [_start(order, "commit", CommitStock(order_id=order.order_id)), _start(order, "invoice", invoice)]


# --- compensation -----------------------------------------------------------------------------


def _begin_compensation(order: Order, outcome: Any, by: str, reason: str, at: datetime) -> list[Command]:
    order.saga.outcome, order.saga.ended_by, order.saga.end_reason = outcome, by, reason
    return _compensate_next(order, at)


def _compensate_next(order: Order, at: datetime) -> list[Command]:
    """Send the compensation of the newest step not yet undone; finish when none is left."""
    for step in reversed(STEPS):
        if step.compensation is not None and order.saga.steps.get(step.name) in _COMPENSABLE:
            order.saga.steps[step.name] = "compensating"
            order.saga.compensating = step.name
            return [step.compensation(order_id=order.order_id)]
    order.saga.compensating = None
    outcome = order.saga.outcome or "cancelled"
    if order.status != outcome:
        order.set_status(outcome, order.saga.ended_by or "intake", order.saga.end_reason, at)
    elif "compensated" in order.saga.steps.values():
        order.record("compensation_completed", "intake", "every started step was undone", at)
    return []


# --- reactions to replies (each returns the commands it causes) --------------------------------


def _note(order: Order, e: Event, reason: str, at: datetime) -> None:
    """Record a reply in the history under its message type, by the service that sent it (R9.3)."""
    order.record(type(e).__name__, e.SERVICE, reason, at)


def _summary(e: Event) -> str:
    return ", ".join(f"{k}={v}" for k, v in e.model_dump(mode="json", exclude={"order_id"}).items())


def _credit_reserved(order: Order, e: Any, at: datetime) -> list[Command]:
    if order.saga.steps.get("credit") != "started":
        return []
    order.saga.steps["credit"] = "done"
    reason = "prepaid: no credit check" if e.skipped else f"credit held, exposure {e.exposure}"
    if order.needs_approval and order.saga.approved_by is None:
        order.saga.hold = "approval"  # large order: a manager signs off first (R2.2)
        _note(order, e, reason, at)
        order.set_status("on_hold", "intake", f"total {order.total} needs a manager's approval (R2.2)", at)
        return []
    return _reserve_stock(order, "billing", reason, at)


def _credit_refused(order: Order, e: Any, at: datetime) -> list[Command]:
    if order.saga.steps.get("credit") != "started" or order.saga.credit_forced:
        return []  # a forced reservation cannot be refused: this is a stale reply
    order.saga.steps["credit"] = "failed"  # nothing is held, so nothing to give back
    order.saga.hold = "credit"
    reason = e.reason or f"exposure {e.exposure} over limit {e.credit_limit}"
    order.set_status("on_hold", "billing", reason, at)
    return []


def _stock_reserved(order: Order, e: Any, at: datetime) -> list[Command]:
    order.saga.steps["stock"] = "done"
    return _create_shipment(order, "inventory", "every line is reserved", at)


def _stock_short(order: Order, e: StockShort, at: datetime) -> list[Command]:
    if not e.shortages:
        return _stock_reserved(order, e, at)
    short = ", ".join(f"{s.sku} x{s.quantity}" for s in e.shortages)
    order.set_status("awaiting_stock", "inventory", f"short: {short}", at)
    command = RaiseSupply(order_id=order.order_id, shortages=e.shortages, priority=order.priority)  # type: ignore[arg-type]
    return [_start(order, "supply", command)]


def _supply_raised(order: Order, e: SupplyRaised, at: datetime) -> list[Command]:
    new = [ref for ref in e.supply_orders if ref.supply_order_id not in order.supply_orders]
    if order.saga.steps.get("supply") == "started":
        order.saga.steps["supply"] = "done"
    if not new:
        return []
    for ref in new:
        order.supply_orders[ref.supply_order_id] = SupplyOrder(**ref.model_dump())
    _note(order, e, ", ".join(f"{r.kind} {r.supply_order_id}" for r in new), at)
    _update_expected_delivery(order, at)
    return []


def _update_expected_delivery(order: Order, at: datetime) -> None:
    """The order's expected delivery is the latest supply arrival; a slip past the need is flagged (R4.2)."""
    dates = [date.fromisoformat(so.expected_at[:10]) for so in order.supply_orders.values() if so.expected_at]
    if not dates or max(dates) == order.expected_delivery:
        return
    order.expected_delivery = max(dates)
    reason = f"expected delivery {order.expected_delivery.isoformat()}"
    if order.required_by is not None and order.expected_delivery > order.required_by:
        order.flag("late_delivery")
        reason += f", after the required {order.required_by.isoformat()}: tell the customer"
    order.record("expected_delivery_updated", "intake", reason, at)


def _supply_completed(order: Order, e: SupplyCompleted, at: datetime) -> list[Command]:
    known = order.supply_orders.get(e.supply_order_id)
    if known is not None and known.status != "raised":
        return []
    if known is None:  # the completion overtook SupplyRaised: remember it all the same
        known = order.supply_orders[e.supply_order_id] = SupplyOrder(
            supply_order_id=e.supply_order_id, kind="", sku=e.sku, quantity=e.quantity, expected_at=""
        )
    known.status = "completed"
    if order.status == "awaiting_stock":
        order.saga.steps["supply"] = "done"
    # After a cancellation the goods are still received: they are kept as stock (R7.1).
    _note(order, e, f"{e.supply_order_id}: {e.sku} x{e.quantity}", at)
    receive = ReceiveSupply(
        order_id=order.order_id, supply_order_id=e.supply_order_id, sku=e.sku, quantity=e.quantity
    )
    return [receive]


def _stock_received(order: Order, e: StockReceived, at: datetime) -> list[Command]:
    known = order.supply_orders.get(e.supply_order_id)
    if known is None or known.status == "received":
        return []
    known.status = "received"
    _note(order, e, f"{e.supply_order_id}: {e.sku} x{e.quantity}", at)
    return []


def _record_tracking(order: Order, shipment_id: str, tracking_number: str) -> bool:
    order.shipment_id = shipment_id
    if tracking_number and tracking_number not in order.tracking_numbers:
        order.tracking_numbers.append(tracking_number)
        return True
    return False


def _shipment_created(order: Order, e: ShipmentCreated, at: datetime) -> list[Command]:
    if not _record_tracking(order, e.shipment_id, e.tracking_number):
        return []
    order.carrier = e.carrier
    if order.saga.steps.get("shipment") == "started":
        order.saga.steps["shipment"] = "done"
    _note(order, e, f"{e.carrier} {e.mode}, tracking {e.tracking_number}", at)
    return []


def _cancellation_overtaken(order: Order, at: datetime) -> bool:
    """The carrier took the goods before CancelShipment landed: the cancellation fails and the
    customer needs a return instead (R7.3). Newest first means nothing older was undone yet."""
    if order.saga.steps.get("shipment") not in ("started", "done", "compensating"):
        return False  # the shipment was already cancelled: this report is stray
    order.saga.compensating = order.saga.outcome = None
    order.record("cancellation_failed", "logistics", "goods already dispatched: request a return", at)
    return True


def _shipment_dispatched(order: Order, e: ShipmentDispatched, at: datetime) -> list[Command]:
    if order.status == "cancelling" and not _cancellation_overtaken(order, at):
        return []
    _record_tracking(order, e.shipment_id, e.tracking_number)
    return _ship(order, "logistics", f"dispatched, tracking {e.tracking_number}", at)


def _shipment_delivered(order: Order, e: ShipmentDelivered, at: datetime) -> list[Command]:
    if order.status == "cancelling" and not _cancellation_overtaken(order, at):
        return []
    commands = []
    if order.status in ("ready_to_ship", "cancelling"):  # the dispatch report was lost or overtaken
        commands = _ship(order, "logistics", "delivered without a dispatch report", at)
    order.set_status("delivered", "logistics", f"signed for at {e.at}", at)  # R5.4
    if order.saga.steps.get("invoice") == "done":
        order.set_status("completed", "intake", "delivered and invoiced", at)
    return commands


def _shipment_delayed(order: Order, e: ShipmentDelayed, at: datetime) -> list[Command]:
    order.flag(f"shipment_{e.type}")  # a person must act within the hour (R5.3)
    _note(order, e, f"{e.type}: {e.note}" if e.note else e.type, at)
    return []


def _stock_committed(order: Order, e: Any, at: datetime) -> list[Command]:
    if order.saga.steps.get("commit") == "done":
        return []
    order.saga.steps["commit"] = "done"
    _note(order, e, "", at)
    return []


def _invoice_issued(order: Order, e: InvoiceIssued, at: datetime) -> list[Command]:
    if e.invoice_id in order.invoice_ids:
        return []
    order.invoice_ids.append(e.invoice_id)
    order.saga.steps["invoice"] = "done"
    _note(order, e, f"{e.invoice_id}: total {e.total}, tax {e.tax}", at)
    if order.status == "delivered":
        order.set_status("completed", "intake", "delivered and invoiced", at)
    return []


def _return_completed(order: Order, e: ReturnCompleted, at: datetime) -> list[Command]:
    if e.return_id in order.returns:
        return []
    order.returns[e.return_id] = "completed"
    note = {"credit_note_id": e.credit_note_id, "return_id": e.return_id, "total": e.refund_total}
    order.credit_notes.append(note)
    for line in e.lines:
        order.returned_quantities[line.sku] = order.returned_quantities.get(line.sku, 0) + line.quantity
    everything = all(order.returned_quantities.get(sku, 0) >= qty for sku, qty in order.quantities().items())
    status = "returned" if everything else "partially_returned"
    order.set_status(status, "aftersales", f"return {e.return_id}, credit note {e.credit_note_id}", at)
    return []


def _return_rejected(order: Order, e: ReturnRejected, at: datetime) -> list[Command]:
    if e.return_id in order.returns:
        return []
    order.returns[e.return_id] = "rejected"
    _note(order, e, f"{e.return_id}: {e.reason}", at)
    return []


def _compensated(order: Order, e: Event, at: datetime) -> list[Command]:
    step = _UNDONE_BY[type(e)]
    if order.saga.compensating != step:
        return []  # not the compensation we wait for: a duplicate or a stray reply
    order.saga.steps[step] = "compensated"
    _note(order, e, _summary(e), at)
    return _compensate_next(order, at)


Reaction = Callable[[Order, Any, datetime], list[Command]]
_SHIPPED = SHIPPED_OR_LATER
_COMPENSATING = frozenset({"cancelling", "rejected"})

# reply -> (statuses that expect it, reaction). Anything else is ignored.
REPLIES: dict[type[Event], tuple[frozenset[str], Reaction]] = {
    CreditReserved: (frozenset({"pending_review"}), _credit_reserved),
    CreditLimitExceeded: (frozenset({"pending_review"}), _credit_refused),
    StockReserved: (frozenset({"approved", "awaiting_stock"}), _stock_reserved),
    StockShort: (frozenset({"approved"}), _stock_short),
    SupplyRaised: (frozenset({"awaiting_stock"}), _supply_raised),
    SupplyCompleted: (frozenset({"awaiting_stock", "cancelling", "cancelled"}), _supply_completed),
    StockReceived: (frozenset({"awaiting_stock"}), _stock_received),
    ShipmentCreated: (frozenset({"ready_to_ship"}) | _SHIPPED, _shipment_created),
    ShipmentDispatched: (frozenset({"ready_to_ship", "cancelling"}), _shipment_dispatched),
    ShipmentDelivered: (frozenset({"ready_to_ship", "shipped", "cancelling"}), _shipment_delivered),
    ShipmentDelayed: (frozenset({"ready_to_ship", "shipped"}), _shipment_delayed),
    StockCommitted: (_SHIPPED, _stock_committed),
    InvoiceIssued: (_SHIPPED, _invoice_issued),
    ReturnCompleted: (_SHIPPED - {"returned"}, _return_completed),
    ReturnRejected: (_SHIPPED, _return_rejected),
    CreditReleased: (_COMPENSATING, _compensated),
    StockReleased: (_COMPENSATING, _compensated),
    SupplyCancelled: (_COMPENSATING, _compensated),
    ShipmentCancelled: (_COMPENSATING, _compensated),
}
REPLY_TYPES: tuple[type[Event], ...] = tuple(REPLIES)


# --- what the handlers call ---------------------------------------------------------------------


def place(
    order_id: str,
    request: OrderRequest,
    catalogue: Catalogue,
    *,
    customer_name: str,
    policy: Policy,
    today: date,
    at: datetime | None = None,
    past: Sequence[PastOrder] = (),
) -> tuple[Order, list[Command]]:
    """Accept a checked order (R1.4, R1.5), rank and screen it (R1.6, R1.7), ask for credit (R3.1)."""
    errors = validate(request, catalogue)
    if errors:
        raise OrderInvalid(errors)
    at = at or utcnow()
    order = Order(
        order_id=order_id,
        customer_id=request.customer_id or "",
        customer_name=customer_name,
        channel=request.channel or "",
        delivery_address=request.delivery_address or "",
        contact=Contact(name=request.contact_name or "", phone=request.contact_phone or ""),
        lines=build_lines(request, catalogue),
        created_at=at,
        payment_terms=request.payment_terms,
        required_by=request.required_by,
        discount=request.discount,
        freight=request.freight,
        remarks=request.remarks,
    )
    order.priority = priority(order.required_by, order.total_quantity, today, policy)
    order.flags = plausibility_flags(
        customer_name=customer_name,
        phone=order.contact.phone,
        required_by=order.required_by,
        below_catalogue_price=below_catalogue_price(request, catalogue),
    )
    order.flags += history_flags(
        address=order.delivery_address, quantities=order.quantities(), at=at, past=past, policy=policy
    )
    order.needs_approval = policy.approval_over is not None and order.total > policy.approval_over
    order.set_status("pending_review", "intake", f"received via {order.channel}", at)
    return order, [_reserve_credit(order)]


# How many absorbed replies' message ids an order remembers (issue 10: the list is bounded).
# Duplicates that fall out of this window are still recognised by the saga's state; the window
# covers the replies whose reactions are not idempotent by state alone (ShipmentDelayed notes).
PROCESSED_WINDOW = 32


def on_reply(
    order: Order, event: Event, *, message_id: str | None = None, at: datetime | None = None
) -> list[Command]:
    """Absorb one reply and return the commands it causes; unexpected or repeated replies do nothing.

    The reply's id is remembered (the newest ``PROCESSED_WINDOW``) only when the handler writes the
    order, i.e. when the reply changed something: a reply that changes nothing writes nothing.
    """
    if message_id is not None and message_id in order.saga.processed:
        return []
    expected = REPLIES.get(type(event))
    if expected is None or order.status not in expected[0]:
        return []
    commands = expected[1](order, event, at or utcnow())
    if message_id is not None:
        order.saga.processed = [*order.saga.processed, message_id][-PROCESSED_WINDOW:]
    return commands


def on_return_completed(order: Order, event: ReturnCompleted, at: datetime | None = None) -> list[Command]:
    """Goods came back and were refunded: the order becomes returned or partially returned (R8.3)."""
    return on_reply(order, event, at=at)


def approve(order: Order, by: str, reason: str, at: datetime | None = None) -> list[Command]:
    """A person lets an order on hold continue: over the credit limit (R3.1) or a large order (R2.2)."""
    if order.status != "on_hold":
        raise NotOnHold(f"order {order.order_id} is {order.status}, not on_hold")
    at = at or utcnow()
    hold, order.saga.hold, order.saga.approved_by = order.saga.hold, None, by
    if hold == "credit":
        order.saga.credit_forced = True
        order.set_status("pending_review", by, f"approved over the credit limit: {reason}", at)
        return [_reserve_credit(order, force=True)]
    return _reserve_stock(order, by, reason, at)


def reject(order: Order, by: str, reason: str, at: datetime | None = None) -> list[Command]:
    """A person refuses an order on hold (R2.2); whatever it already holds is given back."""
    if order.status != "on_hold":
        raise NotOnHold(f"order {order.order_id} is {order.status}, not on_hold")
    at = at or utcnow()
    order.saga.hold = None
    order.set_status("rejected", by, reason, at)
    return _begin_compensation(order, "rejected", by, reason, at)


def cancel(order: Order, by: str, reason: str, at: datetime | None = None) -> list[Command]:
    """Cancel an unshipped order: every started step is undone, newest first (R7.1)."""
    if order.status in SHIPPED_OR_LATER:
        raise OrderShipped(f"order {order.order_id} has shipped; cancel it with a return (R7.3)")
    if order.status in ("cancelling", "cancelled"):
        return []  # a repeated cancel is accepted and changes nothing
    if order.status == "rejected":
        raise InvalidTransition(f"order {order.order_id} was rejected; there is nothing to cancel")
    at = at or utcnow()
    order.saga.hold = None
    order.set_status("cancelling", by, reason, at)
    return _begin_compensation(order, "cancelled", by, reason, at)
