"""The payment gates of the order saga (R3.2, R3.3, R7.1): where an order waits for money.

An order's term (shared.terms) names its gates and where they stand: before supply is raised for
a shortage, and before the carrier is booked. Reaching a gate that is not open yet, the order
waits in ``awaiting_payment`` with what is due, how much and by when; its stock stays reserved
(the paying customer is not oversold) and two kinds of durable timer run: reminders, recorded
in the history, and the expiry, which cancels the order with its compensations. A payment
(``PaymentReceived``, whose ``paid_total`` is what billing holds for the order net of refunds)
or a finance check (letters of credit) opens gates; once none is left at its point the order
goes on. Money received is a step that holds something: cancelling refunds it (RefundPayments).
Everything here is pure; the rows that use it are in saga.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.intake.domain import steps
from services.intake.domain.order import Order
from services.intake.domain.reactions import Action, Guard, Outcome, note
from shared.contracts import RefundPayments, Shortage, StockShort
from shared.terms import TERMS, Gate, gate_amount, gates_before

PAYMENT_TIMER, REMINDER_TIMER = "payment", "payment_reminder"


def _passes(order: Order, gate: Gate, paid: int, checked: bool, total: int) -> bool:
    if gate.kind == "check":
        return checked or gate.name in order.payments.passed
    return paid >= gate_amount(gate, total, order.payments.deposit_percent)


def open_gate(
    order: Order, point: str, paid: int | None = None, checked: bool | None = None, total: int | None = None
) -> Gate | None:
    """The first gate at ``point`` (or an earlier point's, never passed) that is still shut;
    ``total``: judged for another total than the order's (a change's new one, issue 8)."""
    paid = order.payments.paid if paid is None else paid
    checked = order.payments.checked_by is not None if checked is None else checked
    total = order.total if total is None else total
    for gate in gates_before(order.payment_terms or "", point):
        if not _passes(order, gate, paid, checked, total):
            return gate
    return None


def _paid_after(order: Order, e: Any) -> int:
    if e.payment_id in order.payments.received:
        return order.payments.paid
    return max(order.payments.paid, e.paid_total or order.payments.paid + e.amount)


# --- guards ------------------------------------------------------------------------------------


def must_pay_before(point: str, also: Guard | None = None) -> Guard:
    """The reply would take the order past ``point`` while a gate there is shut."""

    def guard(order: Order, e: Any) -> bool:
        return (also is None or also(order, e)) and open_gate(order, point) is not None

    guard.__name__ = f"gate_shut_before_{point}" + (f"_and_{also.__name__}" if also else "")
    return guard


def opens(point: str) -> Guard:
    """This payment or check opens the last shut gate of the point the order waits at."""

    def guard(order: Order, e: Any) -> bool:
        if order.payments.point != point:
            return False
        if isinstance(e, Action):
            return open_gate(order, point, checked=True) is None
        return open_gate(order, point, paid=_paid_after(order, e)) is None

    guard.__name__ = f"opens_gates_before_{point}"
    return guard


def timers(order: Order) -> list[tuple[str, datetime, str]]:
    """(key, due at, purpose) of every timer the order's current wait needs (empty when none)."""
    pay = order.payments
    if order.status != "awaiting_payment" or pay.since is None or pay.expires_at is None:
        return []
    wait = f"{order.order_id}:payment:{pay.since.isoformat()}"
    due = [(f"{wait}:reminder{n}", pay.since + timedelta(seconds=s), REMINDER_TIMER)
           for n, s in enumerate(pay.reminders_s, 1)]  # fmt: skip
    return [*due, (f"{wait}:expiry", pay.expires_at, PAYMENT_TIMER)]


def deadline_of_this_wait(order: Order, e: Any) -> bool:
    """The timer belongs to the wait the order is in now (an earlier wait's timer does nothing)."""
    expires = order.payments.expires_at
    return expires is not None and e is not None and e.due_at == expires.isoformat()


def reminder_due(order: Order, e: Any) -> bool:
    since = order.payments.since
    if since is None or e is None:
        return False
    due = [(since + timedelta(seconds=s)).isoformat() for s in order.payments.reminders_s]
    return e.due_at in due and due.index(e.due_at) >= order.payments.reminders_sent


def late_money(order: Order, e: Any) -> bool:
    """Money arrived after every compensation had run: it is refunded on its own."""
    return order.saga.compensating is None and e.payment_id not in order.payments.received


def new_refunds(order: Order, e: Any) -> bool:
    """The refunds are not ones the order counted already: an earlier refund answered again under
    another id (a later refund of late money is awaited meanwhile) must not count twice."""
    return not e.refund_ids or any(r not in order.payments.refund_ids for r in e.refund_ids)


# --- effects -----------------------------------------------------------------------------------


def _record(order: Order, e: Any, at: datetime) -> bool:
    """Remember a payment once (R9.3: who, how much, what is left); False for one seen before."""
    if e.payment_id in order.payments.received:
        return False
    order.payments.paid = _paid_after(order, e)
    order.payments.received[e.payment_id] = e.amount
    if order.saga.steps.get("payment") is None:
        order.saga.steps["payment"] = "done"  # money held for the order: refunded if it is cancelled
    order.record("PaymentReceived", e.by or e.SERVICE,
                 f"{e.amount} {e.currency} received ({e.payment_id}); paid {order.payments.paid} "
                 f"of {order.total}, due {order.amount_due}", at)  # fmt: skip
    return True


def _wait(order: Order, point: str, at: datetime) -> str:
    gate = open_gate(order, point)
    assert gate is not None
    pay = order.payments
    fresh = pay.point != point or pay.since is None
    pay.gate, pay.point = gate.name, point
    pay.due = gate_amount(gate, order.total, pay.deposit_percent)
    if fresh:  # whole seconds: what the store keeps, so the timers' due times compare equal
        at = at.replace(microsecond=0)
        pay.since, pay.expires_at, pay.reminders_sent = at, at + timedelta(seconds=pay.wait_s), 0
    assert pay.expires_at is not None
    what = gate.what or gate.name
    if gate.kind == "payment":
        amount = f"{pay.due} {order.currency} paid in all, {max(0, pay.due - pay.paid)} still due"
    else:
        amount = "finance's check"
    return f"waiting for {what}: {amount}, by {pay.expires_at.isoformat()} (R3.2)"


def _leave(order: Order) -> None:
    pay = order.payments
    pay.passed += [g.name for g in gates_before(order.payment_terms or "", pay.point or "shipping")
                   if g.name not in pay.passed]  # fmt: skip
    pay.gate = pay.point = None
    pay.due, pay.since, pay.expires_at, pay.shortages = 0, None, None, []


def wait_before_supply(order: Order, e: StockShort, at: datetime) -> Outcome:
    order.payments.shortages = [s.model_dump(mode="json") for s in e.shortages]
    short = ", ".join(f"{s.sku} x{s.quantity}" for s in e.shortages)
    return Outcome(reasons=(f"short: {short}; {_wait(order, 'supply', at)}",))


def wait_before_shipping(order: Order, e: Any, at: datetime) -> Outcome:
    order.saga.steps["stock"] = "done"
    return Outcome(reasons=(f"every line is reserved; {_wait(order, 'shipping', at)}",))


def payment_recorded(order: Order, e: Any, at: datetime) -> Outcome:
    """Money in that opens nothing yet (or the order is not at a gate): recorded, gate updated."""
    if _record(order, e, at) and order.status == "awaiting_payment" and order.payments.point:
        _wait(order, order.payments.point, at)
    return Outcome()


def _go_on(order: Order, at: datetime, why: str) -> Outcome:
    point = order.payments.point
    shortages = list(order.payments.shortages)
    _leave(order)
    if point == "supply":
        short = StockShort(order_id=order.order_id, reserved=[], shortages=[Shortage(**s) for s in shortages])  # type: ignore[arg-type]
        return Outcome([steps.raise_supply(order, short)], (why,))
    return Outcome([steps.create_shipment(order)], (why,))


def payment_opens(order: Order, e: Any, at: datetime) -> Outcome:
    _record(order, e, at)
    return _go_on(order, at, f"paid {order.payments.paid} of {order.total}: the gate is open (R3.3)")


def checked(order: Order, a: Action, at: datetime) -> Outcome:
    """Finance checked the letter of credit (R3.2); an order waiting for it goes on."""
    order.payments.checked_by = a.by
    order.payments.passed += [g.name for g in TERMS[order.payment_terms or "credit"].gates
                              if g.kind == "check" and g.name not in order.payments.passed]  # fmt: skip
    order.record("payment_checked", a.by, a.reason, at)
    if order.status != "awaiting_payment":
        return Outcome()
    return _go_on(order, at, f"checked by {a.by}: {a.reason}")


def reminded(order: Order, e: Any, at: datetime) -> Outcome:
    order.payments.reminders_sent += 1
    pay = order.payments
    order.record("payment_reminder", "intake",
                 f"reminder {pay.reminders_sent}: {max(0, pay.due - pay.paid)} {order.currency} due by "
                 f"{pay.expires_at.isoformat() if pay.expires_at else '?'}", at)  # fmt: skip
    return Outcome()


def expired(order: Order, e: Any, at: datetime) -> Outcome:
    """Unpaid by the deadline: cancelled, with everything it holds given back (R3.2, R7.1)."""
    pay = order.payments
    reason = f"not paid by {e.due_at}: {max(0, pay.due - pay.paid)} {order.currency} of {pay.due} missing"
    order.saga.hold = None
    order.saga.outcome, order.saga.ended_by, order.saga.end_reason = "cancelled", "intake", reason
    return Outcome(steps.compensate_next(order), (reason,), by="intake")


def late_payment_refunded(order: Order, e: Any, at: datetime) -> Outcome:
    _record(order, e, at)
    order.saga.steps["payment"] = "compensating"
    order.saga.compensating = "payment"
    return Outcome([RefundPayments(order_id=order.order_id, reason=f"order is {order.status}")])


def paid_back(order: Order, amount: int) -> None:
    """Billing refunded ``amount`` (a cancellation's refunds, or a change's excess, R7.2)."""
    order.payments.refunded += amount
    order.payments.paid = max(0, order.payments.paid - amount)


def refunded(order: Order, e: Any, at: datetime) -> Outcome:
    """Billing recorded the refunds (R6.2: new negative entries); the next compensation follows."""
    paid_back(order, e.amount)
    order.payments.refund_ids += [r for r in e.refund_ids if r not in order.payments.refund_ids]
    order.saga.steps["payment"] = "compensated"
    refunds = ", ".join(e.refund_ids) or "nothing was paid"
    note(order, e, f"refund {e.amount} ({refunds}), to be paid out by finance", at)
    return Outcome(steps.compensate_next(order))
