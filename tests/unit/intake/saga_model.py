"""The model behind test_saga_properties.py (issue 9): an honest world around one order, the way a
handler applies a decision to an order, and oracles read from the saga's table.

``World`` plays billing, inventory, fulfillment, logistics, the carrier, the factory and aftersales
for one order, as ARCHITECTURE.md describes them ("Duplicates", the table of late and repeated
commands): every command is carried out at most once, a compensation leaves a tombstone so a late
command does nothing, a shipment that left cannot be cancelled (no reply). It keeps what each
service holds for the order, so a test can say what is still held when the order has ended.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from services.intake.domain import saga
from services.intake.domain.order import Order
from services.intake.domain.steps import STEPS
from shared import contracts as c

HOLDING = tuple(step.name for step in STEPS if step.holds)  # credit, stock, supply, shipment
STEP_INDEX = {step.name: n for n, step in enumerate(STEPS)}
# Money received (the "payment" step) is started by a payment from outside, not by a command.
FORWARD: dict[type[c.Command], str] = {
    step.command: step.name for step in STEPS if step.holds and step.command
}
COMPENSATION: dict[type[c.Command], str] = {
    step.compensation: step.name for step in STEPS if step.compensation is not None
}
COMPENSATED_BY: dict[str, type[c.Event]] = {
    step.name: step.compensated_by for step in STEPS if step.compensated_by is not None
}

# What may follow a final status (the spec, written out rather than read from the table):
# only a return moves a delivered order on; a cancelled, rejected or returned order never moves.
FINAL_EXITS: dict[str, frozenset[str]] = {
    "completed": frozenset({"returned", "partially_returned"}),
    "partially_returned": frozenset({"returned", "partially_returned"}),
    "returned": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
    "merged": frozenset(),
}
# What a final order may still send: a rejected order gives back what it held; goods a cancelled
# order's supply produced are still received into stock (R7.1); a shipped order sends nothing.
FINAL_SENDS: dict[str, frozenset[type[c.Command]]] = {
    "completed": frozenset(),
    "partially_returned": frozenset(),
    "returned": frozenset(),
    "cancelled": frozenset({c.ReceiveSupply, c.RefundPayments}),  # money after the end goes back
    "rejected": frozenset(COMPENSATION),
    "merged": frozenset({c.ReceiveSupply, c.RefundPayments}),  # as a cancelled order (R1.8)
}


# --- how a handler applies a decision (services/intake/handlers.py, shared.aggregates.change) -----


def same_but_processed(a: Order, b: Order) -> bool:
    """Equal as stored, but for the ids of absorbed replies (adapters/mongo_orders.fingerprint)."""
    kept = a.saga.processed
    a.saga.processed = b.saga.processed
    try:
        return a == b
    finally:
        a.saga.processed = kept


@dataclass
class Applied:
    order: Order  # the order as stored afterwards
    commands: list[c.Command]
    written: bool
    error: Exception | None = None


def apply(order: Order, decide: Callable[[Order], list[c.Command]]) -> Applied:
    """Decide on a fresh copy of the stored order; a decision that raises, or changes nothing and
    sends nothing, leaves the stored order as it was (and so does not remember the reply's id)."""
    work = pickle.loads(pickle.dumps(order))  # a deep copy, several times faster than deepcopy
    try:
        commands = decide(work)
    except Exception as exc:  # the handler's error (409 for a person, parked for a reply)
        return Applied(order, [], False, exc)
    if not commands and same_but_processed(work, order):
        return Applied(order, [], False)
    return Applied(work, list(commands), True)


# --- the table as an oracle --------------------------------------------------------------------


def allowed_paths(status: str, on: type[c.Event] | str) -> set[tuple[str, ...]]:
    """Every sequence of statuses one input may enter from ``status``: nothing, or the statuses of
    one row for ``on``, optionally followed by those of one automatic row (saga._fire)."""
    paths: set[tuple[str, ...]] = {()}
    for row in saga.TABLE:
        if row.on == on and status in row.source:
            paths.add(row.to)
            after = row.to[-1] if row.to else status
            for auto in saga.TABLE:
                if auto.on == saga.AUTO and after in auto.source:
                    paths.add(row.to + auto.to)
    return paths


# --- the world ---------------------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any] | None  # the test's choices; None: the happy path


@dataclass
class Supply:
    sku: str
    quantity: int
    status: str = "raised"  # raised | completed | cancelled


@dataclass
class World:
    """What the other services hold for one order, and the replies they send (honest ones)."""

    order_id: str
    customer_id: str
    wanted: dict[str, int]
    credit: str = "none"  # none | held | refused | released | invoiced
    credit_closed: bool = False  # ReleaseCredit seen: a late ReserveCredit does nothing
    stock: str = "none"  # none | reserved | short | released | committed
    held: dict[str, int] = field(default_factory=dict)
    stock_closed: bool = False
    receipts: set[str] = field(default_factory=set)
    kept_as_stock: int = 0  # units received after a release: plain stock (R7.1)
    supply: dict[str, Supply] = field(default_factory=dict)
    supply_closed: bool = False
    shipment: str = "none"  # none | booked | held | cancelled | dispatched | delivered
    shipment_closed: bool = False
    bookings: set[str] = field(default_factory=set)  # the booking keys logistics booked under (R7.2)
    tracking: str = "SF1"
    shipment_lines: dict[str, int] = field(default_factory=dict)  # what the booking will hand over
    invoices: list[str] = field(default_factory=list)
    returns: dict[str, str] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)  # what a real service would refuse (park)
    payments: dict[str, int] = field(default_factory=dict)  # billing: payment id -> amount
    refunded: int = 0
    payments_closed: bool = False  # refunds recorded or credit released: billing refuses money

    # commands --------------------------------------------------------------------------------

    def handle(self, command: c.Command, draw: Draw = None) -> list[c.Event]:
        """Carry out one command; the replies it causes (none after a tombstone)."""
        handler = getattr(self, f"_{type(command).__name__}")
        replies: list[c.Event] = handler(command, draw)
        return replies

    def _ReserveCredit(self, cmd: c.ReserveCredit, draw: Draw) -> list[c.Event]:
        if self.credit_closed:
            return []
        if self.credit == "held" or cmd.force or draw is None or draw(st.integers(0, 3)):  # 1 in 4 refused
            self.credit = "held"
            return [
                c.CreditReserved(
                    order_id=self.order_id,
                    customer_id=self.customer_id,
                    amount=cmd.amount,
                    exposure=cmd.amount,
                )
            ]
        self.credit = "refused"
        return [
            c.CreditLimitExceeded(
                order_id=self.order_id,
                customer_id=self.customer_id,
                amount=cmd.amount,
                exposure=cmd.amount + 1,
                credit_limit=1,
                reason="over the credit limit",
            )
        ]

    def _ReleaseCredit(self, cmd: c.ReleaseCredit, draw: Draw) -> list[c.Event]:
        if self.credit == "invoiced":
            self.anomalies.append("credit released after it was invoiced")
        elif self.credit == "held":
            self.credit = "released"
        self.credit_closed = True
        return [c.CreditReleased(order_id=self.order_id, amount=1)]

    def _RefundPayments(self, cmd: c.RefundPayments, draw: Draw) -> list[c.Event]:
        owed = sum(self.payments.values()) - self.refunded
        self.refunded += owed
        self.payments_closed = True
        ids = [f"RF-{p}" for p in self.payments] if owed else []
        return [c.PaymentsRefunded(order_id=self.order_id, refund_ids=ids, amount=owed)]

    def pay(self, amount: int) -> list[c.Event]:
        """Finance records money for the order (billing refuses it once the order is closed)."""
        if self.payments_closed or self.credit_closed:
            return []
        payment_id = f"PAY-W{len(self.payments) + 1}"
        self.payments[payment_id] = amount
        paid = sum(self.payments.values()) - self.refunded
        return [
            c.PaymentReceived(order_id=self.order_id, payment_id=payment_id, amount=amount, paid_total=paid)
        ]

    def _IssueInvoice(self, cmd: c.IssueInvoice, draw: Draw) -> list[c.Event]:
        if not self.invoices:
            if self.credit != "held":
                self.anomalies.append(f"invoiced while the credit is {self.credit}")
            self.credit = "invoiced"
            self.invoices.append("INV-1")
        return [c.InvoiceIssued(order_id=self.order_id, invoice_id=self.invoices[0], total=cmd.total, tax=1)]

    def _lines(self, quantities: dict[str, int]) -> list[c.LineQty]:
        return [c.LineQty(sku=sku, quantity=q) for sku, q in quantities.items() if q > 0]

    def _ReserveStock(self, cmd: c.ReserveStock, draw: Draw) -> list[c.Event]:
        if self.stock_closed or self.stock != "none":
            return []  # a tombstone; a second ReserveStock is never sent by the saga
        short = [sku for sku in self.wanted if draw and draw(st.booleans())]
        missing = {
            sku: draw(st.integers(1, q)) if draw and sku in short else 0 for sku, q in self.wanted.items()
        }
        self.held = {sku: q - missing[sku] for sku, q in self.wanted.items()}
        if not short:
            self.stock = "reserved"
            return [c.StockReserved(order_id=self.order_id, lines=self._lines(self.held))]
        self.stock = "short"
        shortages = [
            c.Shortage(sku=sku, quantity=q, sourcing="make", lead_time_days=3)
            for sku, q in missing.items()
            if q
        ]
        return [c.StockShort(order_id=self.order_id, reserved=self._lines(self.held), shortages=shortages)]

    def _ReceiveSupply(self, cmd: c.ReceiveSupply, draw: Draw) -> list[c.Event]:
        if cmd.supply_order_id not in self.receipts:
            self.receipts.add(cmd.supply_order_id)
            if self.stock == "short":
                take = max(0, min(cmd.quantity, self.wanted.get(cmd.sku, 0) - self.held.get(cmd.sku, 0)))
                self.held[cmd.sku] = self.held.get(cmd.sku, 0) + take
                self.kept_as_stock += cmd.quantity - take
            else:
                self.kept_as_stock += cmd.quantity
        replies: list[c.Event] = [
            c.StockReceived(
                order_id=self.order_id,
                supply_order_id=cmd.supply_order_id,
                sku=cmd.sku,
                quantity=cmd.quantity,
            )
        ]
        if self.stock == "short" and all(self.held.get(s, 0) >= q for s, q in self.wanted.items()):
            self.stock = "reserved"
            replies.append(c.StockReserved(order_id=self.order_id, lines=self._lines(self.held)))
        return replies

    def _ReleaseStock(self, cmd: c.ReleaseStock, draw: Draw) -> list[c.Event]:
        if self.stock == "committed":
            self.anomalies.append("stock released after it was committed")
            return []  # inventory refuses: the message is parked
        released = self._lines(self.held)
        self.held, self.stock, self.stock_closed = {}, "released", True
        return [c.StockReleased(order_id=self.order_id, lines=released)]

    def _CommitStock(self, cmd: c.CommitStock, draw: Draw) -> list[c.Event]:
        if self.stock not in ("reserved", "short", "committed"):
            self.anomalies.append(f"stock committed while {self.stock}")
            return []  # inventory refuses: the message is parked
        committed = self._lines(self.held)
        self.stock = "committed"
        return [c.StockCommitted(order_id=self.order_id, lines=committed)]

    def _RaiseSupply(self, cmd: c.RaiseSupply, draw: Draw) -> list[c.Event]:
        if self.supply_closed:
            return []
        for shortage in cmd.shortages:  # one supply order per (order, SKU)
            self.supply.setdefault(f"MO-{shortage.sku}", Supply(shortage.sku, shortage.quantity))
        return [c.SupplyRaised(order_id=self.order_id, supply_orders=self._refs(list(self.supply)))]

    def _refs(self, ids: list[str]) -> list[c.SupplyOrderRef]:
        return [
            c.SupplyOrderRef(supply_order_id=so_id, kind="production", sku=self.supply[so_id].sku,
                             quantity=self.supply[so_id].quantity, expected_at="2024-05-20T00:00:00+00:00")
            for so_id in ids
        ]  # fmt: skip

    def _CancelSupply(self, cmd: c.CancelSupply, draw: Draw) -> list[c.Event]:
        cancelled = [so_id for so_id, so in self.supply.items() if so.status == "raised"]
        for so_id in cancelled:
            self.supply[so_id].status = "cancelled"
        self.supply_closed = True
        return [c.SupplyCancelled(order_id=self.order_id, supply_order_ids=cancelled)]

    def _CreateShipment(self, cmd: c.CreateShipment, draw: Draw) -> list[c.Event]:
        if self.shipment_closed:
            return []
        lines = {line.sku: line.quantity for line in cmd.lines}
        if self.shipment == "none":
            self.shipment, self.shipment_lines = "booked", lines
            self.bookings.add(cmd.booking)
        elif self.shipment == "held":
            if cmd.booking in self.bookings:
                return []  # a redelivered booking while held for a later change: nothing (R7.2)
            self.shipment, self.shipment_lines = "booked", lines  # booked again after a change
            self.bookings.add(cmd.booking)
            self.tracking = f"SF{len(self.bookings)}"
        return [
            c.ShipmentCreated(
                order_id=self.order_id,
                shipment_id="SH-1",
                carrier="SF Express",
                mode="express",
                tracking_number=self.tracking,
            )
        ]

    def _HoldShipment(self, cmd: c.HoldShipment, draw: Draw) -> list[c.Event]:
        if self.shipment in ("booked", "held"):
            self.shipment = "held"
            return [c.ShipmentHeld(order_id=self.order_id, change_id=cmd.change_id, shipment_id="SH-1")]
        why = "the goods left" if self.shipment in ("dispatched", "delivered") else "nothing booked"
        return [c.ShipmentHeld(order_id=self.order_id, change_id=cmd.change_id, held=False, reason=why)]

    def _CancelShipment(self, cmd: c.CancelShipment, draw: Draw) -> list[c.Event]:
        if self.shipment in ("dispatched", "delivered"):
            return []  # picked up: not cancelled, no reply; the saga learns from the dispatch (R7.3)
        booked = self.shipment in ("booked", "held")
        self.shipment, self.shipment_closed = ("cancelled" if booked else self.shipment), True
        return [c.ShipmentCancelled(order_id=self.order_id, shipment_id="SH-1" if booked else None)]

    # an order change (issue 8): fulfillment, billing and inventory as the change's steps see them

    def _CheckSupplyChange(self, cmd: c.CheckSupplyChange, draw: Draw) -> list[c.Event]:
        started = {
            sku: "production started" for sku in cmd.skus if draw is not None and not draw(st.integers(0, 3))
        }
        return [c.SupplyChangeChecked(order_id=self.order_id, change_id=cmd.change_id, refused=started)]

    def _AdjustCredit(self, cmd: c.AdjustCredit, draw: Draw) -> list[c.Event]:
        if self.credit != "held":
            self.anomalies.append(f"credit adjusted while {self.credit}")
            accepted = False
        else:  # 1 in 4 increases refused over the limit
            accepted = draw is None or bool(draw(st.integers(0, 3)))
        excess = sum(self.payments.values()) - self.refunded - cmd.amount if accepted else 0
        self.refunded += max(0, excess)  # paid beyond a lower total goes back (R7.2)
        return [
            c.CreditAdjusted(
                order_id=self.order_id,
                change_id=cmd.change_id,
                amount=cmd.amount,
                accepted=accepted,
                reason="" if accepted else "over the credit limit",
                refunded=max(0, excess),
            )
        ]

    def _AdjustStock(self, cmd: c.AdjustStock, draw: Draw) -> list[c.Event]:
        if self.stock not in ("reserved", "short"):
            self.anomalies.append(f"stock adjusted while {self.stock}")
            return []  # inventory parks it
        new = {line.sku: line.quantity for line in cmd.lines}
        released, reserved = [], []
        for sku in dict.fromkeys([*self.wanted, *new]):
            want, held = new.get(sku, 0), self.held.get(sku, 0)
            if held > want:
                released.append(c.LineQty(sku=sku, quantity=held - want))
                held = want
            elif want > held:
                take = draw(st.integers(0, want - held)) if draw is not None else want - held
                if take:
                    reserved.append(c.LineQty(sku=sku, quantity=take))
                held += take
            self.held[sku] = held
        self.wanted = new
        missing = [
            c.Shortage(sku=sku, quantity=q - self.held.get(sku, 0), sourcing="make", lead_time_days=3)
            for sku, q in new.items()
            if self.held.get(sku, 0) < q
        ]
        self.stock = "short" if missing else "reserved"
        return [
            c.StockAdjusted(
                order_id=self.order_id,
                change_id=cmd.change_id,
                released=released,
                reserved=reserved,
                missing=missing,
            )
        ]

    def _ChangeSupply(self, cmd: c.ChangeSupply, draw: Draw) -> list[c.Event]:
        if self.supply_closed:
            return []
        cancelled: list[str] = []
        for target in cmd.targets:
            open_ = [
                so_id for so_id, so in self.supply.items() if so.sku == target.sku and so.status == "raised"
            ]
            if target.quantity == 0:
                for so_id in open_:
                    self.supply[so_id].status = "cancelled"
                cancelled += open_
            elif open_:
                self.supply[open_[0]].quantity = target.quantity
            else:
                self.supply[f"MO-{target.sku}-{cmd.change_id.rsplit(':', 1)[-1]}"] = Supply(
                    target.sku, target.quantity
                )
        skus = {t.sku for t in cmd.targets}
        open_ids = [so_id for so_id, so in self.supply.items() if so.sku in skus and so.status == "raised"]
        refs = self._refs(open_ids)
        return [
            c.SupplyChanged(
                order_id=self.order_id, change_id=cmd.change_id, supply_orders=refs, cancelled=cancelled
            )
        ]

    # what happens in the world by itself --------------------------------------------------------

    def open_supply(self) -> list[str]:
        return [so_id for so_id, so in self.supply.items() if so.status == "raised"]

    def complete_supply(self, so_id: str) -> list[c.Event]:
        so = self.supply[so_id]
        so.status = "completed"
        return [
            c.SupplyCompleted(order_id=self.order_id, supply_order_id=so_id, sku=so.sku, quantity=so.quantity)
        ]

    def carrier(self, what: str, note: str = "") -> list[c.Event]:
        oid = self.order_id
        if what == "dispatch" and self.shipment == "booked":
            self.shipment = "dispatched"
            return [
                c.ShipmentDispatched(
                    order_id=oid,
                    shipment_id="SH-1",
                    tracking_number=self.tracking,
                    at="2024-05-11T09:00:00+08:00",
                )
            ]
        if what == "deliver" and self.shipment == "dispatched":
            self.shipment = "delivered"
            return [c.ShipmentDelivered(order_id=oid, shipment_id="SH-1", at="2024-05-12T15:00:00+08:00")]
        if what == "delay" and self.shipment in ("booked", "held", "dispatched"):
            return [c.ShipmentDelayed(order_id=oid, shipment_id="SH-1", note=note)]
        if what == "lose" and self.shipment == "dispatched":
            return [c.ShipmentLost(order_id=oid, shipment_id="SH-1", note=note)]
        return []

    def customer_returns(self, quantities: dict[str, int], accepted: bool) -> list[c.Event]:
        """Aftersales takes a return of what shipped and was not returned yet (R8.3)."""
        return_id = f"RT-{len(self.returns) + 1}"
        if not accepted:
            self.returns[return_id] = "rejected"
            return [c.ReturnRejected(order_id=self.order_id, return_id=return_id, reason="damaged by use")]
        back = {sku: min(q, self.wanted[sku] - self.returned.get(sku, 0)) for sku, q in quantities.items()}
        if not any(back.values()):
            return []
        self.returns[return_id] = "completed"
        for sku, q in back.items():
            self.returned[sku] = self.returned.get(sku, 0) + q
        return [
            c.ReturnCompleted(
                order_id=self.order_id,
                return_id=return_id,
                lines=self._lines(back),
                refund_total=100,
                credit_note_id=f"CN-{return_id}",
            )
        ]

    # what is left --------------------------------------------------------------------------------

    def leaks(self, status: str, settled: bool = True) -> list[str]:
        """What the world still holds, or did, that an order ended in ``status`` must not leave behind."""
        found = list(self.anomalies)
        if self.open_supply():
            found.append(f"supply orders still open: {self.open_supply()}")
        if status in ("cancelled", "rejected"):
            if self.credit == "held":
                found.append("credit still held")
            if self.stock in ("reserved", "short"):
                found.append(f"stock still {self.stock}: {self.held}")
            if self.shipment != "none" and self.shipment != "cancelled":
                found.append(f"shipment {self.shipment}")
            if settled and sum(self.payments.values()) > self.refunded:
                found.append(f"money kept: {sum(self.payments.values()) - self.refunded} not refunded")
        else:  # the goods left: everything held is consumed
            if self.credit != "invoiced":
                found.append(f"credit {self.credit}, not invoiced")
            if self.stock != "committed":
                found.append(f"stock {self.stock}, not committed")
            if self.shipment not in ("dispatched", "delivered"):
                found.append(f"shipment {self.shipment}, not dispatched")
            elif self.shipment_lines != {sku: q for sku, q in self.wanted.items() if q}:
                found.append(f"shipped {self.shipment_lines}, the order wants {self.wanted}")
        return found


# --- replies nobody sent -----------------------------------------------------------------------

SUPPLY_IDS = ("MO-LAMP-1", "MO-SHADE-R", "MO-9")


@functools.cache
def stray_replies(order_id: str, skus: tuple[str, ...]) -> st.SearchStrategy[c.Event]:
    """Any reply the saga might see, with ids that may or may not match the real ones; also
    messages intake does not consume (CreditNoteIssued, PaymentReceived, ReturnRestocked)."""
    oid = st.just(order_id)
    sku = st.sampled_from(skus)
    qty = st.integers(1, 3)
    lines = st.lists(st.builds(c.LineQty, sku=sku, quantity=qty), min_size=1, max_size=2)
    shortages = st.lists(
        st.builds(c.Shortage, sku=sku, quantity=qty, sourcing=st.just("make"), lead_time_days=st.just(3)),
        max_size=2,
    )
    so_id = st.sampled_from(SUPPLY_IDS)
    refs = st.lists(
        st.builds(
            c.SupplyOrderRef,
            supply_order_id=so_id,
            kind=st.just("production"),
            sku=sku,
            quantity=qty,
            expected_at=st.sampled_from(["2024-05-20", "2024-06-30"]),
        ),
        min_size=1,
        max_size=2,
    )
    sh_id = st.sampled_from(["SH-1", "SH-2"])
    tracking = st.sampled_from(["SF1", "SF2"])
    note = st.sampled_from(["", "typhoon", "road closed"])
    return_id = st.sampled_from(["RT-1", "RT-2", "RT-9"])
    money = st.integers(0, 50_000)
    cust = st.just("C-ACME")
    return st.one_of(
        st.builds(
            c.CreditReserved,
            order_id=oid,
            customer_id=cust,
            amount=money,
            exposure=money,
            skipped=st.booleans(),
        ),
        st.builds(
            c.CreditLimitExceeded,
            order_id=oid,
            customer_id=cust,
            amount=money,
            exposure=money,
            credit_limit=money,
            reason=st.just("over"),
        ),
        st.builds(c.CreditReleased, order_id=oid, amount=money),
        st.builds(c.StockReserved, order_id=oid, lines=lines),
        st.builds(
            c.StockShort,
            order_id=oid,
            reserved=st.lists(st.builds(c.LineQty, sku=sku, quantity=qty), max_size=2),
            shortages=shortages,
        ),
        st.builds(
            c.StockReleased,
            order_id=oid,
            lines=st.lists(st.builds(c.LineQty, sku=sku, quantity=qty), max_size=2),
        ),
        st.builds(c.StockCommitted, order_id=oid, lines=lines),
        st.builds(c.StockReceived, order_id=oid, supply_order_id=so_id, sku=sku, quantity=qty),
        st.builds(c.SupplyRaised, order_id=oid, supply_orders=refs),
        st.builds(c.SupplyCompleted, order_id=oid, supply_order_id=so_id, sku=sku, quantity=qty),
        st.builds(c.SupplyCancelled, order_id=oid, supply_order_ids=st.lists(so_id, max_size=2)),
        st.builds(
            c.ShipmentCreated,
            order_id=oid,
            shipment_id=sh_id,
            carrier=st.just("SF Express"),
            mode=st.just("express"),
            tracking_number=tracking,
        ),
        st.builds(
            c.ShipmentDispatched,
            order_id=oid,
            shipment_id=sh_id,
            tracking_number=tracking,
            at=st.just("2024-05-11T09:00:00+08:00"),
        ),
        st.builds(
            c.ShipmentDelivered, order_id=oid, shipment_id=sh_id, at=st.just("2024-05-12T15:00:00+08:00")
        ),
        st.builds(c.ShipmentDelayed, order_id=oid, shipment_id=sh_id, note=note),
        st.builds(c.ShipmentLost, order_id=oid, shipment_id=sh_id, note=note),
        st.builds(c.ShipmentCancelled, order_id=oid, shipment_id=st.one_of(st.none(), sh_id)),
        st.builds(
            c.ShipmentHeld,
            order_id=oid,
            change_id=st.sampled_from([f"{order_id}:c1", f"{order_id}:c2"]),
            shipment_id=sh_id,
            held=st.booleans(),
            reason=note,
        ),
        st.builds(
            c.InvoiceIssued,
            order_id=oid,
            invoice_id=st.sampled_from(["INV-1", "INV-2"]),
            total=money,
            tax=money,
        ),
        st.builds(
            c.ReturnCompleted,
            order_id=oid,
            return_id=return_id,
            lines=lines,
            refund_total=money,
            credit_note_id=st.sampled_from(["CN-1", "CN-2"]),
        ),
        st.builds(c.ReturnRejected, order_id=oid, return_id=return_id, reason=st.just("used")),
        st.builds(
            c.CreditNoteIssued,
            order_id=oid,
            return_id=return_id,
            credit_note_id=st.just("CN-1"),
            total=st.integers(-50_000, 0),
            tax=money,
        ),
        st.builds(c.PaymentReceived, order_id=oid, payment_id=st.just("PAY-1"), amount=money),
        st.builds(c.ReturnRestocked, order_id=oid, return_id=return_id, lines=lines),
    )
