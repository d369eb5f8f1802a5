"""The order saga (R2-R7): every way an order moves, as one table (docs/ARCHITECTURE.md).

Each row is (statuses it applies in, what happened, guard) -> (statuses entered, effect). What
happened is a reply of another service, a person's action (``approve``, ``reject``, ``cancel``)
or, for AUTOMATIC rows, nothing but the order's own state. The first row whose status and guard
match fires; a reply no row expects changes nothing and sends nothing, so replies may be
redelivered and reordered. Guards are in guards.py; effects (reactions.py, shipping.py,
decisions.py) record facts and return the commands, and only the table changes statuses. The
steps and their compensations are in steps.py, placing an order in placing.py; the diagram in
docs/ARCHITECTURE.md is generated from this table and checked by lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake.domain import changes as ch
from services.intake.domain import confirmation as cf
from services.intake.domain import decisions as d
from services.intake.domain import guards as g
from services.intake.domain import payment as pay
from services.intake.domain import reactions as r
from services.intake.domain import shipping as sh
from services.intake.domain.errors import (
    ChangeInProgress,
    ClaimedByAnother,
    InvalidTransition,
    NotOnHold,
    OrderShipped,
    TierRequired,
)
from services.intake.domain.order import SHIPPED_OR_LATER, STATUSES, Order, epoch_ms, utcnow
from services.intake.domain.placing import place
from services.intake.domain.steps import line_quantities
from shared import contracts as c

__all__ = ["line_quantities", "place"]  # re-exported: the saga's whole API is here


@dataclass(frozen=True)
class Transition:
    """One row: in ``source``, on ``on`` (a reply type, an action name or AUTO), if ``when``:
    run ``do``, then enter ``to`` in order (nothing: the status stays). ``by`` names who the
    history credits when it is neither the reply's service nor the acting person."""

    source: frozenset[str]
    on: type[c.Event] | str
    to: tuple[str, ...] = ()
    when: r.Guard | None = None
    do: r.Effect | None = None
    by: str | None = None

    @property
    def gate(self) -> str:
        """What the order waits for before this row can fire: a reply, a person, a deadline or nothing."""
        if isinstance(self.on, type):
            return "reply"
        if self.on == AUTO:
            return "auto"
        return "deadline" if self.on.startswith(DEADLINE) else "person"


AUTO = "auto"
DEADLINE = "deadline:"  # a row on f"{DEADLINE}confirmation" fires when that timer comes due (shared.timers)
ENDS = frozenset({"completed", "cancelled", "rejected", "returned", "partially_returned", "merged"})
SHIPPED = SHIPPED_OR_LATER
UNDOING = frozenset({"cancelling", "rejected"})
CANCELLABLE = frozenset(
    {"pending_review", "on_hold", "approved", "awaiting_stock", "awaiting_payment", "ready_to_ship"}
)
BEFORE_SHIPPING = CANCELLABLE  # money may come in any time before the goods leave (R3.2)


def rows(source: set[str] | frozenset[str], on: type[c.Event] | str, *to: str, **kw: Any) -> Transition:
    return Transition(frozenset(source), on, tuple(to), **kw)


overtaken = sh.cancellation_overtaken
# fmt: off
TABLE: tuple[Transition, ...] = (
    # credit (R3.1) and approval of large orders (R2.2)
    rows({"pending_review"}, c.CreditReserved, "on_hold", when=g.needs_a_manager, do=r.hold_for_approval),
    rows({"pending_review"}, c.CreditReserved, "approved", when=g.credit_awaited, do=r.credit_held),
    rows({"pending_review"}, c.CreditLimitExceeded, "on_hold", when=g.refusal_awaited, do=r.credit_refused),
    rows({"on_hold"}, "approve", "pending_review", when=g.hold_is("credit"), do=d.force_credit),
    rows({"on_hold"}, "approve", "approved", when=g.hold_is("review"), do=d.approve_large),
    rows({"on_hold"}, "approve", when=g.both(g.hold_is("approval"), g.general_manager_next),
         do=d.manager_signed),
    rows({"on_hold"}, "approve", "approved", when=g.hold_is("approval"), do=d.approve_large),
    rows({"on_hold"}, "approve", "approved", when=g.hold_is("general_manager"), do=d.approve_large),
    rows({"on_hold"}, "reject", "rejected", do=d.begin_compensation("rejected")),
    # a change (issue 8, R7.2, R4.2): the steps for the difference only (changes.py); a reply that
    # would move the order on meanwhile is kept for the change's end
    rows({"ready_to_ship"} | SHIPPED, c.ShipmentHeld, when=ch.hold_answered(held=False), do=ch.not_held),
    rows({"ready_to_ship"}, c.ShipmentHeld, when=ch.hold_answered(held=True), do=ch.shipment_held),
    rows({"ready_to_ship"}, c.ShipmentDispatched, "shipped", when=ch.running, do=ch.dispatched_meanwhile),
    rows(ch.CHANGEABLE, c.StockReserved, when=ch.running, do=ch.reserved_meanwhile),
    rows({"awaiting_payment"}, c.PaymentReceived, when=ch.running, do=ch.payment_meanwhile),
    rows(ch.CHANGEABLE, c.SupplyChangeChecked, when=ch.awaits("checking_supply"), do=ch.supply_checked),
    rows(ch.CHANGEABLE, c.CreditAdjusted, when=ch.awaits("adjusting_credit"), do=ch.credit_adjusted),
    rows(ch.CHANGEABLE, c.StockAdjusted, when=g.both(ch.awaits("adjusting_stock"), ch.needs_supply),
         do=ch.stock_adjusted),
    rows(ch.CHANGEABLE, c.StockAdjusted, "awaiting_stock", when=ch.ends("short"), do=ch.applied_short),
    rows(ch.CHANGEABLE, c.StockAdjusted, "awaiting_payment", when=ch.ends("gate"), do=ch.applied_at_gate),
    rows(ch.CHANGEABLE, c.StockAdjusted, "ready_to_ship", when=ch.ends("ready"), do=ch.applied_ready),
    rows(ch.CHANGEABLE, c.SupplyChanged, "awaiting_stock", when=ch.ends("short"), do=ch.applied_short),
    rows(ch.CHANGEABLE, c.SupplyChanged, "awaiting_payment", when=ch.ends("gate"), do=ch.applied_at_gate),
    rows(ch.CHANGEABLE, c.SupplyChanged, "ready_to_ship", when=ch.ends("ready"), do=ch.applied_ready),
    # a merge (R1.8): the order merged away gives everything back, then the other takes its lines
    rows(ch.CHANGEABLE - {"ready_to_ship"}, "merge_away", "cancelling", do=d.begin_compensation("merged")),
    rows(ch.CHANGEABLE, "absorbed", when=ch.absorbing, do=ch.absorbed),
    rows(ch.CHANGEABLE, "absorbed", when=ch.unannounced_merge, do=ch.absorbed),
    rows(frozenset(STATUSES), "absorbed", do=ch.merge_refused),
    # stock (R4.1) and supply for what is short (R4.2), each behind the term's gates (R3.2)
    rows({"approved", "awaiting_stock"}, c.StockReserved, when=ch.from_before_a_change),  # stale: nothing
    rows({"approved", "awaiting_stock"}, c.StockReserved, "awaiting_payment",
         when=pay.must_pay_before("shipping"), do=pay.wait_before_shipping),
    rows({"approved", "awaiting_stock"}, c.StockReserved, "ready_to_ship", do=r.stock_held),
    rows({"approved"}, c.StockShort, "awaiting_payment",
         when=pay.must_pay_before("shipping", also=g.nothing_short), do=pay.wait_before_shipping),
    rows({"approved"}, c.StockShort, "ready_to_ship", when=g.nothing_short, do=r.stock_held),
    rows({"approved"}, c.StockShort, "awaiting_payment",
         when=pay.must_pay_before("supply"), do=pay.wait_before_supply),
    rows({"approved"}, c.StockShort, "awaiting_stock", do=r.stock_short),
    rows({"awaiting_stock", "awaiting_payment", "ready_to_ship"} | SHIPPED, c.SupplyRaised,
         do=r.supply_raised),  # late (its completion overtook it, issue 9): the record is filled in
    rows({"awaiting_stock", "cancelling", "cancelled", "merged"}, c.SupplyCompleted,
         when=g.supply_was_raised, do=r.supply_completed),
    # StockReceived may come after StockReserved moved the order on (reordered replies, issue 9).
    rows({"awaiting_stock", "awaiting_payment", "ready_to_ship"} | SHIPPED, c.StockReceived,
         do=r.stock_received),
    # money (R3.2, R3.3): payments and finance's checks open gates; unpaid, the order expires
    rows({"awaiting_payment"}, c.PaymentReceived, "awaiting_stock",
         when=pay.opens("supply"), do=pay.payment_opens),
    rows({"awaiting_payment"}, c.PaymentReceived, "ready_to_ship",
         when=pay.opens("shipping"), do=pay.payment_opens),
    rows({"cancelled", "rejected", "merged"}, c.PaymentReceived, when=pay.late_money,
         do=pay.late_payment_refunded),
    rows(BEFORE_SHIPPING | SHIPPED | UNDOING, c.PaymentReceived, do=pay.payment_recorded),
    rows({"awaiting_payment"}, "check", "awaiting_stock", when=pay.opens("supply"), do=pay.checked),
    rows({"awaiting_payment"}, "check", "ready_to_ship", when=pay.opens("shipping"), do=pay.checked),
    rows(BEFORE_SHIPPING, "check", do=pay.checked),
    rows({"awaiting_payment"}, f"{DEADLINE}{pay.REMINDER_TIMER}", when=pay.reminder_due, do=pay.reminded),
    rows({"awaiting_payment"}, f"{DEADLINE}{pay.PAYMENT_TIMER}", "cancelling",
         when=pay.deadline_of_this_wait, do=pay.expired),
    # shipping (R5) and invoicing (R6.1); a dispatch that overtakes a cancellation ships (R7.3)
    rows({"ready_to_ship"} | SHIPPED, c.ShipmentCreated, do=sh.shipment_booked),
    rows({"ready_to_ship"}, c.ShipmentDispatched, "shipped", do=sh.dispatched),
    rows({"cancelling"}, c.ShipmentDispatched, "shipped",
         when=g.shipment_not_undone, do=overtaken(sh.dispatched)),
    rows({"shipped"}, c.ShipmentDelivered, "delivered", do=sh.delivered),
    rows({"ready_to_ship"}, c.ShipmentDelivered, "shipped", "delivered", do=sh.delivered_unannounced),
    rows({"cancelling"}, c.ShipmentDelivered, "shipped", "delivered",
         when=g.shipment_not_undone, do=overtaken(sh.delivered_unannounced)),
    rows({"ready_to_ship", "shipped"}, c.ShipmentDelayed, do=sh.shipment_delayed),
    rows({"shipped"}, c.ShipmentLost, do=sh.shipment_lost),
    rows(SHIPPED, c.StockCommitted, do=sh.stock_committed),
    rows(SHIPPED, c.InvoiceIssued, do=sh.invoice_issued),
    # returns (R8.3)
    rows(SHIPPED - {"returned"}, c.ReturnCompleted, "returned",
         when=g.everything_returned, do=r.return_completed),
    rows(SHIPPED - {"returned"}, c.ReturnCompleted, "partially_returned",
         when=g.new_return, do=r.return_completed),
    rows(SHIPPED, c.ReturnRejected, do=r.return_rejected),
    # cancellation (R7.1): each started step undone, newest first, one at a time
    rows(CANCELLABLE, "cancel", "cancelling", do=d.begin_compensation("cancelled")),
    rows(UNDOING, c.CreditReleased, when=g.compensation_awaited, do=r.compensated),
    rows(UNDOING, c.StockReleased, when=g.compensation_awaited, do=r.compensated),
    rows(UNDOING, c.SupplyCancelled, when=g.compensation_awaited, do=r.compensated),
    rows(UNDOING, c.ShipmentCancelled, when=g.compensation_awaited, do=r.compensated),
    rows(UNDOING | {"cancelled", "merged"}, c.PaymentsRefunded,
         when=g.both(g.compensation_awaited, pay.new_refunds), do=pay.refunded),
    # the first confirmation's deadline (R2.4): late, a breach is raised (the status stays)
    rows(CANCELLABLE, f"{DEADLINE}{cf.CONFIRMATION_TIMER}", when=cf.late, do=cf.breached, by="intake"),
    # automatic: the order's own state moves it on
    rows({"delivered"}, AUTO, "completed", when=g.invoiced, do=d.completed, by="intake"),
    rows({"cancelling"}, AUTO, "merged", when=g.both(g.compensations_done, g.merging), do=d.merged),
    rows({"cancelling"}, AUTO, "cancelled", when=g.compensations_done, do=d.cancelled),
)
# fmt: on
REPLY_TYPES: tuple[type[c.Event], ...] = tuple(dict.fromkeys(t.on for t in TABLE if isinstance(t.on, type)))
EXPECTED_IN: dict[type[c.Event], frozenset[str]] = {
    reply: frozenset().union(*(t.source for t in TABLE if t.on is reply)) for reply in REPLY_TYPES
}


def _fire(order: Order, on: type[c.Event] | str, message: Any, by: str, at: datetime) -> list[c.Command]:
    """Fire the first matching row, then every automatic row that matches; the commands caused."""
    commands: list[c.Command] = []
    for trigger in (on, AUTO):
        row = next((t for t in TABLE if t.on == trigger and order.status in t.source
                    and (t.when is None or t.when(order, message))), None)  # fmt: skip
        if row is None:
            break  # automatic rows only follow a row that fired
        outcome = row.do(order, message, at) if row.do else r.Outcome()
        for n, status in enumerate(row.to):
            reason = outcome.reasons[min(n, len(outcome.reasons) - 1)] if outcome.reasons else ""
            order.set_status(status, outcome.by or row.by or by, reason, at)
        commands += outcome.commands
    return commands


# --- what the handlers call ---------------------------------------------------------------------

# How many absorbed replies' message ids an order remembers (issue 10: the list is bounded).
# Duplicates that fall out of this window are still recognised by the saga's state; the window
# covers the replies whose reactions are not idempotent by state alone (ShipmentDelayed notes).
PROCESSED_WINDOW = 32


def on_reply(
    order: Order, event: c.Event, *, message_id: str | None = None, at: datetime | None = None
) -> list[c.Command]:
    """Absorb one reply and return the commands it causes; unexpected or repeated replies do nothing.

    The reply's id is remembered (the newest ``PROCESSED_WINDOW``) only when the handler writes the
    order, i.e. when the reply changed something: a reply that changes nothing writes nothing.
    """
    if message_id is not None and message_id in order.saga.processed:
        return []
    if order.status not in EXPECTED_IN.get(type(event), frozenset()):
        return []
    commands = _fire(order, type(event), event, event.SERVICE, at or utcnow())
    if message_id is not None:
        order.saga.processed = [*order.saga.processed, message_id][-PROCESSED_WINDOW:]
    return commands


def on_deadline(order: Order, timer: c.DeadlinePassed, at: datetime | None = None) -> list[c.Command]:
    """A durable timer the saga set came due (R2.4, R3.2, R9.4): the row for its purpose in the
    order's status decides; none (the wait ended before the deadline) means nothing happens."""
    return _fire(order, f"{DEADLINE}{timer.timer}", timer, "intake", at or utcnow())


def check_payment(order: Order, by: str, reason: str, at: datetime | None = None) -> list[c.Command]:
    """Finance checked what the order's terms ask to be checked (a letter of credit, R3.2)."""
    if order.status not in BEFORE_SHIPPING:
        raise InvalidTransition(
            f"order {order.order_id} is {order.status}; payment checks come before shipping"
        )
    if order.change is not None:
        raise ChangeInProgress(f"order {order.order_id}: change {order.change.change_id} is being applied")
    return _fire(order, "check", d.Action(by, reason), by, at or utcnow())


# Which approval tier (R2.1, R2.2) decides an order on each kind of hold.
TIER_OF_HOLD = {
    "credit": "review", "review": "review", "approval": "manager", "general_manager": "general_manager",
}  # fmt: skip
TIERS = frozenset(TIER_OF_HOLD.values())


def _may_decide(order: Order, by: str, tiers: frozenset[str], at: datetime) -> None:
    if order.status != "on_hold":
        raise NotOnHold(f"order {order.order_id} is {order.status}, not on_hold")
    need = TIER_OF_HOLD.get(order.saga.hold or "", "review")
    if need not in tiers:
        who = need.replace("_", " ")
        raise TierRequired(f"order {order.order_id} waits for the {who}'s decision (R2.2)")
    if order.claim_by not in (None, by) and order.claim_until_ms > epoch_ms(at):
        raise ClaimedByAnother(f"order {order.order_id} is claimed by {order.claim_by} (R2.3)")


def approve(
    order: Order, by: str, reason: str, at: datetime | None = None, tiers: frozenset[str] = TIERS
) -> list[c.Command]:
    """A person lets an order on hold continue: flagged (R2.1), over the credit limit (R3.1), or
    what R2.2 names (a manager; the largest then the general manager). ``tiers``: the caller's."""
    at = at or utcnow()
    _may_decide(order, by, tiers, at)
    return _fire(order, "approve", d.Action(by, reason), by, at)


def reject(
    order: Order, by: str, reason: str, at: datetime | None = None, tiers: frozenset[str] = TIERS
) -> list[c.Command]:
    """A person refuses an order on hold (R2.2); whatever it already holds is given back."""
    at = at or utcnow()
    _may_decide(order, by, tiers, at)
    return _fire(order, "reject", d.Action(by, reason), by, at)


def cancel(order: Order, by: str, reason: str, at: datetime | None = None) -> list[c.Command]:
    """Cancel an unshipped order: every started step is undone, newest first (R7.1)."""
    if order.status in SHIPPED:
        raise OrderShipped(f"order {order.order_id} has shipped; cancel it with a return (R7.3)")
    if order.status in ("cancelling", "cancelled"):
        return []  # a repeated cancel is accepted and changes nothing
    if order.change is not None:
        raise ChangeInProgress(
            f"order {order.order_id}: change {order.change.change_id} is being applied; cancel once it ended"
        )
    if order.status not in CANCELLABLE:
        raise InvalidTransition(f"order {order.order_id} was {order.status}; there is nothing to cancel")
    return _fire(order, "cancel", d.Action(by, reason), by, at or utcnow())


def change_order(order: Order, asked: ch.Asked, by: str, at: datetime | None = None) -> list[c.Command]:
    """Amend the order or cancel a line or its short part (issue 8, R7.2, R4.2): the steps for the
    difference only, then a new confirmation; 409 with the reason when it cannot change now."""
    return ch.begin(order, asked, by, at or utcnow())


def merge_away(
    order: Order, into: Order, by: str, reason: str, at: datetime | None = None
) -> list[c.Command]:
    """Merge this order into ``into`` (R1.8): it gives back everything it holds, newest first,
    and ends ``merged``; its last step hands its lines to ``into`` (AbsorbOrder)."""
    at = at or utcnow()
    ch.may_merge(into, order)
    ch.merge_away(order, into.order_id, by, reason, at)
    return _fire(order, "merge_away", d.Action(by, f"merged into {into.order_id}: {reason}"), by, at)


def merge_in(order: Order, other: Order, by: str, reason: str, at: datetime | None = None) -> list[c.Command]:
    """The order ``other`` is merged into (R1.8): it waits for ``other``'s lines (AbsorbOrder)."""
    ch.may_change(order)
    return ch.merge_in(order, other, by, reason, at or utcnow())


def on_absorbed(order: Order, message: c.AbsorbOrder, at: datetime | None = None) -> list[c.Command]:
    """An order merged into this one gave back what it held: take its lines on (R1.8)."""
    return _fire(order, "absorbed", message, "intake", at or utcnow())
