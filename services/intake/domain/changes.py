"""Changing an accepted order (issue 8, R7.2, R4.2): an amendment of its lines, delivery date or
address, or the cancel of one line or of its short part, by the saga's steps for the difference.

One change at a time per order (``Order.change``), named ``<order_id>:c<n>``; every service is
idempotent by that id. The steps, each waiting for its reply (rows in saga.py):

0. ``holding_shipment``: when the carrier is booked (ready_to_ship), logistics first keeps the
   shipment from leaving (HoldShipment); goods that left already make the change a return (R7.3).
1. ``checking_supply``: when a SKU whose supply order is open changes, fulfillment says whether
   it may (R7.2: production that started refuses, with a reason). Refused: nothing changed.
2. ``adjusting_credit``: billing moves the order's credit hold to the new total; an increase over
   the customer's limit is refused (R3.1). Refused: nothing changed.
3. ``adjusting_stock``: inventory moves the reservation to the new quantities (bundles expanded,
   R1.9) and says what is still missing per SKU.
4. ``changing_supply``: each SKU's open supply order is set to what is still missing (raised,
   resized or cancelled); one whose production started meanwhile is kept, and its goods become
   stock on arrival (as R7.1 keeps them).

Then the order takes the new lines, total and fields, goes where its stock says (waiting for
stock, for payment, or ready to ship) and is confirmed again (R2.4); a held shipment is booked again
with the new lines, amount and address (CreateShipment with ``booking`` = the change's id) when the
order is ready to ship, at once or once its stock or payment is complete. A refused change books
the held shipment again as it was. Changes are possible while the order waits for stock or for
payment before shipping and once the carrier is booked; before that (credit check, reservation)
they are refused with the reason; once shipped a change is a return (R7.3). A cancel while a
change runs is refused (409), and a change while a compensation runs too. Everything here is
pure; the preview (``plan``) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.intake.domain import confirmation, steps
from services.intake.domain import payment as pay
from services.intake.domain.errors import (
    ChangeInProgress,
    ChangeNotPossible,
    MergeMismatch,
    OrderInvalid,
    OrderShipped,
)
from services.intake.domain.order import SHIPPED_OR_LATER, Change, Line, Order
from services.intake.domain.order import stock_units as stock_of
from services.intake.domain.reactions import Outcome, note, remember_supply
from services.intake.domain.shipping import dispatched
from shared.contracts import (
    AdjustCredit,
    AdjustStock,
    ChangeSupply,
    CheckSupplyChange,
    Command,
    HoldShipment,
    LineQty,
    SupplyTarget,
)

# Where a change may start: nothing but supply is in flight, or the carrier booking, which the
# change holds first (see the module docstring).
CHANGEABLE = frozenset({"awaiting_stock", "awaiting_payment", "ready_to_ship"})
WHY_NOT: dict[str, str] = {
    "pending_review": "its credit check is running",
    "on_hold": "it waits for a person's decision: decide it first",
    "approved": "its stock is being reserved",
    "cancelling": "it is being cancelled (a compensation runs)",
    "rejected": "it was rejected",
    "cancelled": "it was cancelled",
}  # fmt: skip


# --- what a change would do (the preview) -------------------------------------------------------


@dataclass(frozen=True)
class SkuPlan:
    """One SKU of the stock the order takes (bundles expanded): before, after, and its supply."""

    sku: str
    before: int
    after: int
    open_supply: int = 0  # units on open supply orders for the order
    production: bool = False  # an open production order: production must agree (R7.2)

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Plan:
    """What applying a change would do downstream, computed without changing anything."""

    skus: list[SkuPlan]
    old_total: int
    new_total: int
    lines: list[Line]

    @property
    def credit_delta(self) -> int:
        return self.new_total - self.old_total

    @property
    def supply_skus(self) -> list[str]:
        """SKUs with open supply whose quantity changes: fulfillment is asked first (R7.2)."""
        return [s.sku for s in self.skus if s.open_supply and s.delta]

    @property
    def lines_change(self) -> bool:
        return any(s.delta for s in self.skus) or self.new_total != self.old_total

    def view(self, available: dict[str, int] | None = None) -> dict[str, Any]:
        """The preview as API.md shows it; ``available`` (SKU -> units free now) estimates what
        would be short and so need supply (inventory decides when the change is applied)."""
        stock = []
        for s in self.skus:
            if not s.delta:
                continue
            row: dict[str, Any] = {"sku": s.sku, "before": s.before, "after": s.after}
            if s.delta < 0:
                row["release"] = -s.delta
                if s.open_supply:
                    row["supply"] = f"shrink or cancel the open supply order ({s.open_supply} units)"
            else:
                row["reserve"] = s.delta
                free = None if available is None else available.get(s.sku)
                if free is not None:
                    short = max(0, s.delta - free)
                    row["available_now"] = free
                    row["would_be_short"] = short
                    if short:
                        row["supply"] = f"raise or enlarge supply for {short} units"
            if s.production:
                row["production_must_agree"] = True
            stock.append(row)
        return {
            "stock": stock,
            "credit": {
                "hold_before": self.old_total,
                "hold_after": self.new_total,
                "change": self.credit_delta,
            },
            "total": {"before": self.old_total, "after": self.new_total},
            "production_must_agree": [s.sku for s in self.skus if s.production and s.delta],
        }


def open_supply(order: Order) -> dict[str, tuple[int, bool]]:
    """SKU -> (units on open supply orders, whether one is a production order)."""
    found: dict[str, tuple[int, bool]] = {}
    for so in order.supply_orders.values():
        if so.status == "raised":
            units, production = found.get(so.sku, (0, False))
            found[so.sku] = (units + so.quantity, production or so.kind == "production")
    return found


def plan(order: Order, lines: list[Line]) -> Plan:
    """What changing the order's lines to ``lines`` would do (pure: the preview, and the start)."""
    before, after, supply = stock_of(order.lines), stock_of(lines), open_supply(order)
    skus = [
        SkuPlan(sku, before.get(sku, 0), after.get(sku, 0), *supply.get(sku, (0, False)))
        for sku in dict.fromkeys([*before, *after])
    ]
    return Plan(skus, order.total, order.total_of(lines), lines)


def may_change(order: Order) -> None:
    """Raise the 409 that says why the order cannot be changed now; nothing when it can."""
    if order.status in SHIPPED_OR_LATER:
        raise OrderShipped(f"order {order.order_id} has shipped; change it with a return (R7.3)")
    if order.change is not None:
        raise ChangeInProgress(
            f"order {order.order_id}: change {order.change.change_id} is being applied "
            f"({order.change.status}); send yours when it has ended"
        )
    if order.status not in CHANGEABLE:
        why = WHY_NOT.get(order.status, f"it is {order.status}")
        raise ChangeNotPossible(f"order {order.order_id} cannot be changed now: {why}")
    if order.status == "ready_to_ship" and order.saga.steps.get("shipment") != "done":
        raise ChangeNotPossible(
            f"order {order.order_id} cannot be changed now: its carrier is being booked; try again "
            "in a moment"
        )
    if order.status == "awaiting_payment" and order.payments.point == "supply":
        raise ChangeNotPossible(
            f"order {order.order_id} waits for its deposit before supply is raised (R3.2): change it "
            "once the deposit is paid, or cancel it"
        )


def line_cancel(order: Order, number: int, quantity: int | None, short: bool) -> list[Line]:
    """The lines after cancelling ``quantity`` units of line ``number`` (1-based), or, with
    ``short``, the units of it still short (R4.2 "cancelling the short lines"); all of it if
    neither is given."""
    if not 1 <= number <= len(order.lines):
        raise OrderInvalid({"line": f"the order has lines 1 to {len(order.lines)}, not {number}"})
    line = order.lines[number - 1]
    if short:
        if line.components:
            raise OrderInvalid({"short": "a bundle line's short part is not one number: give a quantity"})
        units = open_supply(order).get(line.sku, (0, False))[0]
        if units == 0:
            raise ChangeNotPossible(f"nothing of {line.sku} is short on order {order.order_id}")
        quantity = min(units, line.quantity)
    quantity = line.quantity if quantity is None else quantity
    if not 1 <= quantity <= line.quantity:
        has = f"line {number} has {line.quantity} units; cancel 1 to {line.quantity}"
        raise OrderInvalid({"quantity": has})
    lines = [replace(li) for li in order.lines]
    left = line.quantity - quantity
    if left:
        lines[number - 1] = replace(line, quantity=left)
    else:
        del lines[number - 1]
    if not lines:
        raise ChangeNotPossible(f"that is all of order {order.order_id}: cancel the order instead (R7.1)")
    return lines


# --- starting a change --------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What a person asked to change; None fields stay as they are."""

    kind: str = "amendment"
    lines: list[Line] | None = None
    delivery_address: str | None = None
    required_by: date | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def begin(order: Order, asked: Asked, by: str, at: datetime) -> list[Command]:
    """Start the change (or apply it at once when only the date or address changes)."""
    may_change(order)
    lines = asked.lines if asked.lines is not None else [replace(li) for li in order.lines]
    planned = plan(order, lines)
    address = asked.delivery_address if asked.delivery_address not in (None, order.delivery_address) else None
    required_by = asked.required_by if asked.required_by not in (None, order.required_by) else None
    if not planned.lines_change and address is None and required_by is None:
        raise OrderInvalid({"change": "it changes nothing: give other lines, a delivery date or an address"})
    change = Change(
        change_id=f"{order.order_id}:c{len(order.changes) + 1}", kind=asked.kind, by=by,
        reason=asked.reason, at=at, lines=lines, old_lines=[replace(li) for li in order.lines],
        total=planned.new_total, old_total=order.total, delivery_address=address, required_by=required_by,
    )  # fmt: skip
    order.changes.append(change)
    order.record("change_requested", by, f"{change.change_id}: {describe(order, planned, change)}", at)
    if order.status == "ready_to_ship" and (planned.lines_change or address is not None):
        return [_hold(order, change)]  # the carrier has the lines and the address
    if not planned.lines_change:
        _apply(order, change, at)  # the date, or the address before any booking
        return []
    return _first_step(order, change, planned)


def _first_step(order: Order, change: Change, planned: Plan) -> list[Command]:
    """Fulfillment is asked first when open supply changes (R7.2), else billing."""
    if planned.supply_skus:
        change.status = "checking_supply"
        skus = planned.supply_skus
        return [CheckSupplyChange(order_id=order.order_id, change_id=change.change_id, skus=skus)]
    return [_adjust_credit(order, change)]


def _hold(order: Order, change: Change) -> Command:
    change.status = "holding_shipment"
    return HoldShipment(order_id=order.order_id, change_id=change.change_id)


def describe(order: Order, planned: Plan, change: Change) -> str:
    parts = [f"{s.sku} {s.before} -> {s.after}" for s in planned.skus if s.delta]
    if planned.new_total != planned.old_total:
        parts.append(f"total {planned.old_total} -> {planned.new_total}")
    if change.delivery_address is not None:
        parts.append("delivery address")
    if change.required_by is not None:
        parts.append(f"required by {change.required_by.isoformat()}")
    return "; ".join(parts) + (f" ({change.reason})" if change.reason else "")


def _adjust_credit(order: Order, change: Change) -> Command:
    change.status = "adjusting_credit"
    return AdjustCredit(order_id=order.order_id, change_id=change.change_id, customer_id=order.customer_id,
                        amount=change.total)  # fmt: skip


def _refuse(order: Order, change: Change, why: str, by: str, at: datetime) -> list[Command]:
    """End the change refused: nothing of it stays; a held shipment is booked again as it was."""
    change.status, change.outcome, change.ended_at = "refused", why, at
    order.record("change_refused", by, f"{change.change_id}: {why}", at)
    if change.merge_from is not None:  # the other order ended merged: its lines must not be lost
        order.flag("merge_failed")
        lost = f"{change.merge_from} was merged into this order but its lines could not be taken on"
        order.record("merge_failed", "intake", f"{lost}: they wait for a person (R1.8)", at)
    if order.saga.booking == change.change_id and order.status == "ready_to_ship":  # it holds it
        return [steps.create_shipment(order)]
    return []


# --- guards and effects of the rows in saga.py --------------------------------------------------


def awaits(step: str) -> Any:
    """The reply answers the running change at ``step``."""

    def guard(order: Order, e: Any) -> bool:
        change = order.change
        return change is not None and change.status == step and e.change_id == change.change_id

    guard.__name__ = f"change_awaits_{step}"
    return guard


def running(order: Order, e: Any) -> bool:
    return order.change is not None


def hold_answered(held: bool) -> Any:
    """Logistics answered the running change's HoldShipment: held, or not (the goods left)."""
    waiting = awaits("holding_shipment")

    def guard(order: Order, e: Any) -> bool:
        return bool(waiting(order, e)) and e.held == held

    guard.__name__ = f"shipment_{'held' if held else 'not_held'}"
    return guard


def shipment_held(order: Order, e: Any, at: datetime) -> Outcome:
    """The shipment waits: the change goes on (a merge waits for the other order's lines, and an
    address alone is applied and booked again at once)."""
    change = _ended(order)
    order.saga.booking = change.change_id  # the key of the booking made again (CreateShipment)
    note(order, e, f"{change.change_id}: shipment {e.shipment_id} held for the change", at)
    if change.merge_from is not None:
        if not change.absorbed:
            change.status = "absorbing"
            return Outcome()
        return Outcome([_adjust_credit(order, change)])
    planned = plan(order, change.lines)
    if not planned.lines_change:
        _apply(order, change, at)
        return Outcome([steps.create_shipment(order)])
    return Outcome(_first_step(order, change, planned))


def not_held(order: Order, e: Any, at: datetime) -> Outcome:
    """The goods left before the hold: the change is refused; the order ships (R7.3)."""
    change = _ended(order)
    return Outcome(_refuse(order, change, f"the goods left before the change could stop them ({e.reason}): "
                           "return what is not wanted (R7.3)", e.SERVICE, at))  # fmt: skip


def dispatched_meanwhile(order: Order, e: Any, at: datetime) -> Outcome:
    """The carrier picked the goods up before logistics held them: the change is refused and the
    order has shipped (R7.3); the hold's late refusal then finds no change waiting."""
    change = _ended(order)
    _refuse(order, change, "the goods left before the change could stop them: return what is not "
            "wanted (R7.3)", e.SERVICE, at)  # fmt: skip
    return dispatched(order, e, at)


def supply_checked(order: Order, e: Any, at: datetime) -> Outcome:
    change = order.change
    assert change is not None
    if e.refused:
        why = "; ".join(f"{sku}: {reason}" for sku, reason in sorted(e.refused.items()))
        return Outcome(_refuse(order, change, f"production does not agree (R7.2): {why}", e.SERVICE, at))
    note(order, e, f"{change.change_id}: supply may change", at)
    return Outcome([_adjust_credit(order, change)])


def credit_adjusted(order: Order, e: Any, at: datetime) -> Outcome:
    change = order.change
    assert change is not None
    if not e.accepted:
        return Outcome(_refuse(order, change, f"credit: {e.reason}", e.SERVICE, at))
    words = f"{change.change_id}: credit held {e.amount}"
    if e.refunded:  # paid beyond the new, lower total: billing owes it back (R7.2)
        pay.paid_back(order, e.refunded)
        words += f"; {e.refunded} paid beyond the new total is refunded, to be paid out by finance"
    note(order, e, words, at)
    change.status = "adjusting_stock"
    lines = [LineQty(sku=sku, quantity=qty) for sku, qty in stock_of(change.lines).items() if qty > 0]
    return Outcome([AdjustStock(order_id=order.order_id, change_id=change.change_id, lines=lines)])


def _targets(order: Order, change: Change, e: Any) -> list[SupplyTarget]:
    """Each SKU whose open supply differs from what is still missing after the stock step."""
    missing = {m.sku: m for m in e.missing}
    supply = open_supply(order)
    targets = []
    for sku in dict.fromkeys([*missing, *supply]):
        want = missing[sku].quantity if sku in missing else 0
        if want != supply.get(sku, (0, False))[0]:
            m = missing.get(sku)
            targets.append(SupplyTarget(sku=sku, quantity=want, sourcing=m.sourcing if m else "buy",
                                        lead_time_days=m.lead_time_days if m else 0))  # fmt: skip
    return targets


def needs_supply(order: Order, e: Any) -> bool:
    change = order.change
    return change is not None and bool(_targets(order, change, e))


def stock_adjusted(order: Order, e: Any, at: datetime) -> Outcome:
    """The reservation is the new one; supply follows what is still missing."""
    change = order.change
    assert change is not None
    change.missing = {m.sku: m.quantity for m in e.missing}
    note(order, e, f"{change.change_id}: {_stock_words(e)}", at)
    change.status = "changing_supply"
    targets = _targets(order, change, e)
    return Outcome([ChangeSupply(order_id=order.order_id, change_id=change.change_id, targets=targets,
                                 priority=order.priority)])  # type: ignore[arg-type]  # fmt: skip


def _stock_words(e: Any) -> str:
    words = [f"released {ln.sku} x{ln.quantity}" for ln in e.released]
    words += [f"reserved {ln.sku} x{ln.quantity}" for ln in e.reserved]
    words += [f"short {m.sku} x{m.quantity}" for m in e.missing]
    return ", ".join(words) or "nothing to move"


def supply_changed(order: Order, e: Any, at: datetime) -> None:
    """Intake's record of the order's supply orders follows what fulfillment did."""
    change = order.change
    assert change is not None
    for so_id in e.cancelled:
        if so_id in order.supply_orders:
            order.supply_orders[so_id].status = "cancelled"
    for ref in e.supply_orders:
        remember_supply(order, ref)
    if e.supply_orders and order.saga.steps.get("supply") in (None, "compensated"):
        order.saga.steps["supply"] = "done"  # a cancellation cancels them (R7.1)
    words = [f"{r.kind} {r.supply_order_id} {r.sku} x{r.quantity}" for r in e.supply_orders]
    words += [f"cancelled {so_id}" for so_id in e.cancelled]
    words += [f"kept {sku}: {why}" for sku, why in sorted(e.kept.items())]
    note(order, e, f"{change.change_id}: {', '.join(words) or 'nothing to change'}", at)


def from_before_a_change(order: Order, e: Any) -> bool:
    """A StockReserved for other quantities than the order's since an applied change: a copy from
    before the change (redelivered, or overtaken); it does not mean the new lines are held."""
    if not any(change.status == "applied" for change in order.changes):
        return False
    wanted = {sku: qty for sku, qty in stock_of(order.lines).items() if qty > 0}
    return {line.sku: line.quantity for line in e.lines} != wanted


def payment_meanwhile(order: Order, e: Any, at: datetime) -> Outcome:
    """Money that comes during a change is recorded; whether it opens the gate is judged at the
    change's end, against the new total (it may open it now and not then, or the other way)."""
    pay._record(order, e, at)
    return Outcome()


def reserved_meanwhile(order: Order, e: Any, at: datetime) -> Outcome:
    """A StockReserved during the change: it counts when it names the new quantities (a receipt
    completed the new reservation); one for the old quantities is from before the change."""
    change = order.change
    assert change is not None
    new = {sku: qty for sku, qty in stock_of(change.lines).items() if qty > 0}
    if {ln.sku: ln.quantity for ln in e.lines} == new:
        change.reserved_meanwhile = True
    return Outcome()


# --- how a change ends: the rows' guards say where the order goes ------------------------------


def ends(where: str) -> Any:
    """The change's last reply (``SupplyChanged``, or ``StockAdjusted`` with no supply to change)
    leaves the order ``where``: short (awaiting_stock), at a payment gate, or ready to ship."""

    def guard(order: Order, e: Any) -> bool:
        change = order.change
        if change is None or e.change_id != change.change_id:
            return False
        if type(e).__name__ == "StockAdjusted":
            if change.status != "adjusting_stock" or needs_supply(order, e):
                return False
            missing = {m.sku: m.quantity for m in e.missing}
        elif change.status == "changing_supply":
            missing = change.missing
        else:
            return False
        short = bool(missing) and not change.reserved_meanwhile
        if where == "short":
            return short
        if short:
            return False
        shut = pay.open_gate(order, "shipping", total=change.total) is not None
        return shut if where == "gate" else not shut

    guard.__name__ = f"change_ends_{where}"
    return guard


def applied_short(order: Order, e: Any, at: datetime) -> Outcome:
    """Still short: the order waits for its (changed) supply."""
    _from_reply(order, e, at)
    change = _apply(order, _ended(order), at)
    if order.status == "awaiting_payment":
        _leave_payment_wait(order)
    short = ", ".join(f"{sku} x{qty}" for sku, qty in sorted(change.missing.items()))
    return Outcome(reasons=(f"changed ({change.change_id}); short: {short}",))


def applied_at_gate(order: Order, e: Any, at: datetime) -> Outcome:
    """Everything is reserved and a payment gate before shipping is shut (R3.2)."""
    _from_reply(order, e, at)
    change = _apply(order, _ended(order), at)
    order.saga.steps["stock"] = "done"
    return Outcome(reasons=(f"changed ({change.change_id}); {pay._wait(order, 'shipping', at)}",))


def applied_ready(order: Order, e: Any, at: datetime) -> Outcome:
    """Everything is reserved and nothing shuts the way: the carrier is booked (R5)."""
    _from_reply(order, e, at)
    change = _apply(order, _ended(order), at)
    if order.status == "awaiting_payment":
        pay._leave(order)
    order.saga.steps["stock"] = "done"
    return Outcome([steps.create_shipment(order)], (f"changed ({change.change_id}); every line is reserved",))


def _from_reply(order: Order, e: Any, at: datetime) -> None:
    if type(e).__name__ == "SupplyChanged":
        supply_changed(order, e, at)
    else:
        change = order.change
        assert change is not None
        change.missing = {m.sku: m.quantity for m in e.missing}
        note(order, e, f"{change.change_id}: {_stock_words(e)}", at)


def _ended(order: Order) -> Change:
    change = order.change
    assert change is not None
    return change


def _apply(order: Order, change: Change, at: datetime) -> Change:
    """The order takes what the change asked; the customer is asked to confirm it again (R2.4)."""
    order.lines = [replace(li) for li in change.lines]
    if change.delivery_address is not None:
        order.delivery_address = change.delivery_address
    if change.required_by is not None:
        order.required_by = change.required_by
    change.status, change.ended_at = "applied", at
    change.outcome = f"applied: total {change.old_total} -> {order.total}"
    order.record("change_applied", change.by, f"{change.change_id}: {change.outcome}", at)
    if order.confirmation.version > 0:
        confirmation.send(order, at, "intake", f"changed by {change.change_id}")
    return change


def _leave_payment_wait(order: Order) -> None:
    """A wait for payment before shipping ends without the gate opening: the order is short again
    and comes back to the gate when its stock is complete (the old wait's timers do nothing)."""
    p = order.payments
    p.gate = p.point = None
    p.due, p.since, p.expires_at = 0, None, None


# --- merging two orders (R1.8) -------------------------------------------------------------------
#
# Order B is merged into order A: B gives back everything it holds (its compensations, newest
# first, as a cancellation does) and ends ``merged`` with a pointer to A; its last step tells A
# (``AbsorbOrder``, through the outbox), and A takes B's lines on as a change of kind ``merge``:
# credit, stock and supply follow by the difference, so what B held is held for A again. B is
# written first: a crash before A's write leaves B merging, and A starts its change when B's
# ``AbsorbOrder`` arrives. While A waits (``absorbing``) it is frozen like any order changing.

MERGE_MUST_MATCH: tuple[tuple[str, Any], ...] = (
    ("customer_id", lambda o: o.customer_id),
    ("contact.phone", lambda o: o.contact.phone),
    ("delivery_address", lambda o: o.delivery_address),
    ("channel", lambda o: o.channel),
    ("currency", lambda o: o.currency),
    ("payment_terms", lambda o: o.payment_terms),
    ("prices_include_tax", lambda o: o.prices_include_tax),
    ("tax_rate_bp", lambda o: o.tax_rate_bp),
)


def merge_mismatch(into: Order, other: Order) -> dict[str, str]:
    """Every field that must match (R1.8 "only when every field matches") and does not."""
    return {name: f"{into.order_id} has {get(into)!r}, {other.order_id} has {get(other)!r}"
            for name, get in MERGE_MUST_MATCH if get(into) != get(other)}  # fmt: skip


def merged_lines(into: list[Line], other: list[Line]) -> list[Line]:
    """The lines of both: one line per SKU, spec and price, quantities added."""
    lines = [replace(li) for li in into]
    for line in other:
        same = next((li for li in lines if (li.sku, li.spec, li.unit_price) == (line.sku, line.spec,
                     line.unit_price)), None)  # fmt: skip
        if same is not None:
            same.quantity += line.quantity
        else:
            lines.append(replace(line))
    return lines


def may_merge(into: Order, other: Order) -> None:
    """Raise the 409 or 422 that says why ``other`` cannot be merged into ``into`` now."""
    if into.order_id == other.order_id:
        raise OrderInvalid({"order_id": "an order cannot be merged into itself"})
    for order in (into, other):
        may_change(order)
    if other.status == "ready_to_ship":  # its cancel could be overtaken by the pickup (R7.3)
        raise ChangeNotPossible(
            f"{other.order_id} has its carrier booked: merge {into.order_id} into it instead (R1.8)"
        )
    if mismatch := merge_mismatch(into, other):
        why = f"{other.order_id} cannot be merged into {into.order_id}: fields differ (R1.8)"
        raise MergeMismatch(why, mismatch)


def merge_away(other: Order, into: str, by: str, reason: str, at: datetime) -> None:
    """Mark ``other`` as merging into ``into``: the row that starts its compensations follows."""
    other.merged_into = into
    other.record("merging", by, f"into {into}: {reason} (R1.8)", at)


def merge_in(into: Order, other: Order, by: str, reason: str, at: datetime) -> list[Command]:
    """Open the change of kind ``merge`` on ``into``; it waits for ``other``'s AbsorbOrder (and,
    when its carrier is booked, holds the shipment meanwhile)."""
    lines = merged_lines(into.lines, other.lines)
    change = Change(
        change_id=f"{into.order_id}:c{len(into.changes) + 1}", kind="merge", by=by, reason=reason, at=at,
        lines=lines, old_lines=[replace(li) for li in into.lines], total=into.total_of(lines),
        old_total=into.total, status="absorbing", merge_from=other.order_id,
    )  # fmt: skip
    into.changes.append(change)
    into.record("change_requested", by, f"{change.change_id}: merge {other.order_id} into it ({reason})", at)
    return [_hold(into, change)] if into.status == "ready_to_ship" else []


def absorbing(order: Order, e: Any) -> bool:
    change = order.change
    return (change is not None and change.status in ("absorbing", "holding_shipment")
            and change.merge_from == e.from_order and not change.absorbed)  # fmt: skip


def unannounced_merge(order: Order, e: Any) -> bool:
    """An AbsorbOrder the order has no change for (a crash came between the two writes of the
    merge): it takes the lines on now if it still can."""
    if any(ch.merge_from == e.from_order for ch in order.changes):
        return False  # a repeat: the merge is under way or done
    try:
        may_change(order)
    except (ChangeNotPossible, ChangeInProgress, OrderShipped):
        return False
    return True


def absorbed(order: Order, e: Any, at: datetime) -> Outcome:
    """The merged order gave everything back: this one holds it again, by the change's steps."""
    change, commands = order.change, list[Command]()
    if change is None or change.merge_from != e.from_order:  # no change yet (a crash): open it now
        names = {li.sku: li.name for li in order.lines}
        lines = [Line(li.sku, names.get(li.sku, li.sku), li.quantity, li.unit_price) for li in e.lines]
        other = Order(order_id=e.from_order, customer_id=order.customer_id, channel=order.channel,
                      delivery_address=order.delivery_address, contact=order.contact, lines=lines,
                      created_at=at)  # fmt: skip
        commands = merge_in(order, other, "intake", e.reason, at)
        change = order.change
    assert change is not None
    change.absorbed = True
    note_merge = f"{change.change_id}: {e.from_order} gave back what it held; its lines are taken on"
    order.record("AbsorbOrder", "intake", note_merge, at)
    if change.status == "holding_shipment":
        return Outcome(commands)  # the shipment's hold answers, then the change goes on
    return Outcome([_adjust_credit(order, change)])


def merge_refused(order: Order, e: Any, at: datetime) -> Outcome:
    """An AbsorbOrder the order cannot take any more (it moved on): a person must look (R1.8)."""
    if any(ch.merge_from == e.from_order for ch in order.changes) or "merge_failed" in order.flags:
        return Outcome()
    order.flag("merge_failed")
    waiting = [(li.sku, li.quantity) for li in e.lines]
    why = f"{e.from_order} was merged into this order, which is {order.status} now: its lines {waiting} wait"
    order.record("merge_failed", "intake", f"{why} for a person", at)
    return Outcome()
