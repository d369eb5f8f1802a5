"""The order saga under random replies, duplicates, reorderings, cancels and approvals (issue 9).

A Hypothesis state machine places one order (saga.place) and then, in any order: lets the world
carry out any command the saga sent (saga_model.World: billing, inventory, fulfillment, logistics),
delivers any reply in flight, delivers a reply again under the id it had, answers a reply again
under a new id, delivers replies nobody sent, lets the factory finish supply, the carrier move the
parcel and the customer return goods, and lets a person cancel, approve or reject. Everything goes
through the entry points the handlers use (saga.on_reply, on_deadline, cancel, approve, reject)
with the handler's write rule (a decision that changes nothing writes nothing, saga_model.apply).

Checked after every step:
- the statuses entered are those of one row of the table for that input (then one automatic row),
  the status is a known one, the history only grows, and a final status moves only by a return;
- the same reply applied twice equals once: nothing changes, nothing is sent again;
- compensations go newest first, one at a time, each once, only for steps that started, and no
  step starts again once undoing began; a final order sends only what it may (FINAL_SENDS);
- every held resource is consumed or compensated once the order ends: as the saga's commands and
  the replies it absorbed say, and, while every reply was an honest one, as the world holds it;
- at the end, with everything in flight delivered (and the order cancelled if it still can be),
  an honest run ends in a final status with nothing held: no order is stuck.

Profiles (HYPOTHESIS_PROFILE): ``fast`` (default, in ``make test``), ``thorough`` (make saga-properties).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.intake.domain import changes, payment, saga
from services.intake.domain.errors import ChangeInProgress, InvalidTransition, NotOnHold, OrderShipped
from services.intake.domain.order import STATUSES, Line, Order
from services.intake.domain.screening import Policy
from services.intake.domain.steps import UNDONE_BY
from services.intake.domain.validation import LineRequest
from shared import contracts as c
from tests.unit.intake import saga_model as m
from tests.unit.intake.builders import AT, Builders

_common: dict[str, Any] = dict(
    deadline=None, database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fast", max_examples=300, stateful_step_count=40, **_common)
settings.register_profile("thorough", max_examples=10_000, stateful_step_count=80, **_common)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fast")

ENDS = saga.ENDS
PEOPLE = ("manager.wang", "ops.li")
TIMERS = ("confirmation", "payment", "delivery")
CONSUMED = (c.CommitStock, c.IssueInvoice)
ORDER_ID = "SO202405000001"


class OrderSaga(RuleBasedStateMachine):
    """One order, the world around it, and what the saga sent and absorbed."""

    order: Order
    world: m.World
    patience: int

    def __init__(self) -> None:
        super().__init__()
        self.tick = 0
        self.pending: list[tuple[str, c.Command]] = []  # sent, not yet carried out by the world
        self.in_flight: list[tuple[str, c.Event]] = []  # replies sent, not yet delivered
        self.delivered: list[tuple[str, c.Event, bool, bool]] = []  # (id, reply, changed it, honest)
        self.forward: dict[str, int] = {}  # holding step -> how often its command was sent
        self.consumed: dict[type[c.Command], int] = {}
        self.compensations: list[str] = []  # steps, in the order their compensation was sent
        self.compensated: set[str] = set()  # steps whose compensation reply the saga absorbed
        self.refused = False  # a refusal was absorbed and no forced ReserveCredit followed
        self.dispatch_absorbed = False
        self.honest = True  # no reply nobody sent has changed the order
        self.ids = 0
        self.late_refunds = 0  # RefundPayments for money that came after the order had ended

    # --- plumbing ---------------------------------------------------------------------------

    def now(self) -> Any:
        self.tick += 1
        return AT + timedelta(seconds=self.tick)

    def new_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"

    def step(self, on: type[c.Event] | str, decide: Any) -> m.Applied:
        """Apply one input as a handler does and check the transition it made against the table."""
        before = self.order
        result = m.apply(before, decide)
        after = result.order
        assert after.status in STATUSES, after.status
        assert after.history[: len(before.history)] == before.history, "the history was rewritten"
        entered = tuple(e.status for e in after.history[len(before.history) :] if e.status)
        assert entered in m.allowed_paths(before.status, on), (
            f"{before.status} --{on if isinstance(on, str) else on.__name__}--> {entered}: no row allows it"
        )
        assert after.status == (entered[-1] if entered else before.status)
        if before.status in ENDS and after.status != before.status:
            assert after.status in m.FINAL_EXITS[before.status], f"{before.status} left for {after.status}"
        if before.status in ENDS:
            extra = {type(cmd) for cmd in result.commands} - m.FINAL_SENDS[before.status]
            assert not extra, f"{before.status} order sent {sorted(t.__name__ for t in extra)}"
        for status in entered:
            event(f"entered {status}")
        if before.status == "cancelling" and "shipped" in entered:
            event("a dispatch overtook the cancellation (R7.3)")
        self.order = after
        return result

    def sent(self, commands: list[c.Command], on: type[c.Event] | str, status_before: str) -> None:
        for command in commands:
            kind = type(command)
            if kind in m.FORWARD:
                name = m.FORWARD[kind]
                assert name not in self.compensations, f"{name} started again after its compensation"
                assert status_before not in ENDS | {"cancelling"}, (
                    f"{kind.__name__} sent from {status_before}"
                )
                self.forward[name] = self.forward.get(name, 0) + 1
                if isinstance(command, c.ReserveCredit) and command.force:
                    self.refused = False
            elif kind is c.RefundPayments and on is c.PaymentReceived:
                # Money that came after every compensation had run is refunded on its own (R7.1).
                assert status_before in ("cancelled", "rejected"), f"late refund from {status_before}"
                self.late_refunds += 1
            elif kind in m.COMPENSATION:
                self.check_compensation(m.COMPENSATION[kind], on)
            elif isinstance(command, c.ChangeSupply):  # a change raises supply too (issue 8)
                if any(t.quantity for t in command.targets):
                    self.forward["supply"] = self.forward.get("supply", 0) + 1
            elif kind in CONSUMED:
                self.consumed[kind] = self.consumed.get(kind, 0) + 1
                assert self.consumed[kind] == 1, f"{kind.__name__} sent twice"
            self.pending.append((self.new_id("cmd"), command))

    def check_compensation(self, name: str, on: type[c.Event] | str) -> None:
        assert name not in self.compensations, f"{name} compensated twice"
        assert self.forward.get(name), f"{name} compensated but never started"
        if self.compensations:  # one at a time: the previous one's reply set this one off
            previous = self.compensations[-1]
            assert previous in self.compensated, f"{name} undone while {previous} still undoing"
            assert on is m.COMPENSATED_BY[previous], f"{name} undone on {on}"
        else:
            expiry = f"{saga.DEADLINE}{payment.PAYMENT_TIMER}"  # unpaid in time (R3.2)
            assert on in ("cancel", "reject", expiry), f"compensation began on {on}"
        newer = [s for s in m.HOLDING if m.STEP_INDEX[s] > m.STEP_INDEX[name] and self.forward.get(s)]
        assert all(s in self.compensated for s in newer), f"{name} undone before newer {newer}"
        self.compensations.append(name)

    def deliver(self, message_id: str, reply: c.Event, honest: bool = True) -> m.Applied:
        status, had_money = self.order.status, "payment" in self.order.saga.steps
        result = self.step(
            type(reply), lambda o: saga.on_reply(o, reply, message_id=message_id, at=self.now())
        )
        again = m.apply(result.order, lambda o: saga.on_reply(o, reply, message_id=message_id, at=self.now()))
        assert not again.written and again.commands == [], f"{type(reply).__name__} applied twice differs"
        if result.written:
            undone = UNDONE_BY.get(type(reply))
            if undone and self.compensations and self.compensations[-1] == undone:
                self.compensated.add(undone)
            if isinstance(reply, c.CreditLimitExceeded):
                self.refused = True
            if isinstance(reply, c.ShipmentDispatched | c.ShipmentDelivered) and "shipped" in [
                e.status for e in result.order.history
            ]:
                self.dispatch_absorbed = True
            if not honest:
                self.honest = False
        # Money held for the order from now on (R3.2); money after the end goes back on its own.
        if not had_money and result.order.saga.steps.get("payment") == "done":
            self.forward["payment"] = 1  # money held for the order from now on (R3.2)
        self.sent(result.commands, type(reply), status)
        self.delivered.append((message_id, reply, result.written, honest))
        return result

    def world_replies(self, replies: list[c.Event], cause: str) -> None:
        # A reply's id derives from the command it answers (shared.envelope.reply_id).
        self.in_flight += [(f"{cause}:{type(r).__name__}", r) for r in replies]

    # --- placing ----------------------------------------------------------------------------

    @initialize(
        lamps=st.integers(0, 3),
        shades=st.integers(0, 3),
        large=st.booleans(),
        prepaid_terms=st.booleans(),
        patience=st.integers(0, 150),
    )
    def place(self, lamps: int, shades: int, large: bool, prepaid_terms: bool, patience: int) -> None:
        """Place one order; the customer may cancel once ``patience`` inputs have reached the saga."""
        self.patience = patience
        make = Builders()
        lines = [LineRequest(sku=s, quantity=q) for s, q in (("LAMP-1", lamps), ("SHADE-R", shades)) if q]
        lines = lines or [LineRequest(sku="SHADE-R", quantity=1)]
        request = make.request(lines=lines, payment_terms="prepaid" if prepaid_terms else None)
        policy = Policy(approval_over=10_000 if large else None)
        order, commands = saga.place(
            ORDER_ID,
            request,
            make.catalogue,
            customer_name="Shanghai ACME Trading",
            policy=policy,
            today=make.today,
            at=AT,
        )
        self.order = order
        self.world = m.World(order.order_id, order.customer_id, order.quantities())
        assert order.status == "pending_review"
        self.sent(commands, "place", "pending_review")

    # --- the world --------------------------------------------------------------------------

    @rule(pick=st.integers(0, 99), data=st.data())
    def world_carries_out(self, pick: int, data: st.DataObject) -> None:
        if not self.pending:
            return
        command_id, command = self.pending.pop(pick % len(self.pending))
        self.world_replies(self.world.handle(command, data.draw), command_id)

    @rule(pick=st.integers(0, 99))
    def a_reply_arrives(self, pick: int) -> None:
        if not self.in_flight:
            return
        self.deliver(*self.in_flight.pop(pick % len(self.in_flight)))

    @rule(pick=st.integers(0, 99))
    def a_reply_arrives_again(self, pick: int) -> None:
        """The same envelope redelivered (at-least-once, a relay's second publish)."""
        if not self.delivered:
            return
        message_id, reply, written, honest = self.delivered[pick % len(self.delivered)]
        before, was_honest = self.order, self.honest
        result = self.deliver(message_id, reply, honest)
        window = message_id in before.saga.processed
        kept = "kept" if window else "not kept"
        event(f"duplicate of a reply that {'acted' if written else 'did nothing'}, its id {kept}")
        if written and (window or was_honest):  # it changed the order once: a copy changes nothing
            assert (not result.written and not result.commands) or (
                not window and isinstance(reply, c.ShipmentDelayed)  # a note per copy once forgotten
            ), f"duplicate {type(reply).__name__} acted again: {[type(x).__name__ for x in result.commands]}"

    @rule(pick=st.integers(0, 99))
    def a_reply_is_answered_again_under_a_new_id(self, pick: int) -> None:
        """A service answers a second time under a new id: the saga must see it is nothing new."""
        if not self.delivered:
            return
        _, reply, written, honest = self.delivered[pick % len(self.delivered)]
        status, was_honest = self.order.status, self.honest
        result = self.deliver(self.new_id("again"), reply, honest)
        if not written or not was_honest:
            pass  # a late first copy, or a reply nobody sent moved the facts: checked like any reply
        elif isinstance(reply, c.ShipmentDelayed):
            assert not result.commands and self.order.status == status  # one more note, nothing else
        else:
            assert not result.written and not result.commands, f"{type(reply).__name__} again acted"

    @rule(data=st.data())
    def a_reply_nobody_sent_arrives(self, data: st.DataObject) -> None:
        reply = data.draw(m.stray_replies(self.order.order_id, tuple(sorted(self.order.quantities()))))
        self.deliver(self.new_id("stray"), reply, honest=False)

    @rule(data=st.data())
    def the_world_moves(self, data: st.DataObject) -> None:
        """The factory finishes a supply order, the carrier reports, or the customer returns goods."""
        world = self.world
        moves = [f"factory {so_id}" for so_id in world.open_supply()]
        if world.shipment in ("booked", "dispatched"):
            moves += ["carrier dispatch", "carrier deliver", "carrier delay", "carrier lose"]
        if self.order.status in saga.SHIPPED and world.shipment == "delivered":
            moves += ["customer return", "customer return rejected"]  # aftersales checks intake's status
        if not moves:
            return
        who, what, *rest = data.draw(st.sampled_from(moves)).split()
        if who == "factory":
            replies = world.complete_supply(what)
        elif who == "carrier":
            replies = world.carrier(what, data.draw(st.sampled_from(["", "typhoon"])))
        else:
            quantities = {sku: data.draw(st.integers(0, q)) for sku, q in world.wanted.items()}
            replies = world.customer_returns(quantities, accepted=not rest)
        self.world_replies(replies, self.new_id(who))

    @rule(share=st.sampled_from([10, 30, 70, 100]))
    def finance_records_a_payment(self, share: int) -> None:
        """Money comes in: a share of the total (R3.2, R3.3); refused once billing closed the order."""
        self.world_replies(self.world.pay(max(1, self.order.total * share // 100)), self.new_id("finance"))

    @rule(pick=st.integers(0, 9))
    def a_payment_timer_comes_due(self, pick: int) -> None:
        """One of the timers the order's wait for money set (reminders, expiry) fires."""
        due = payment.timers(self.order)
        if not due:
            return
        _, at, purpose = due[pick % len(due)]
        timer = c.DeadlinePassed(order_id=self.order.order_id, timer=purpose, due_at=at.isoformat())
        on, status = f"{saga.DEADLINE}{purpose}", self.order.status
        result = self.step(on, lambda o: saga.on_deadline(o, timer, self.now()))
        self.sent(result.commands, on, status)

    @rule(timer=st.sampled_from(TIMERS))
    def a_deadline_passes(self, timer: str) -> None:
        on = f"{saga.DEADLINE}{timer}"
        status = self.order.status
        result = self.step(
            on,
            lambda o: saga.on_deadline(
                o,
                c.DeadlinePassed(order_id=o.order_id, timer=timer, due_at=self.now().isoformat()),
                self.now(),
            ),
        )
        self.sent(result.commands, on, status)

    # --- people -----------------------------------------------------------------------------

    def act(self, action: str, by: str) -> m.Applied:
        status, changing = self.order.status, self.order.change is not None
        fn = {"cancel": saga.cancel, "approve": saga.approve, "reject": saga.reject}[action]
        result = self.step(action, lambda o: fn(o, by, f"{action} by a person", self.now()))
        if action == "cancel":
            expected: type[Exception] | None = (
                OrderShipped
                if status in saga.SHIPPED
                else None
                if status in saga.CANCELLABLE | {"cancelling", "cancelled"}
                else InvalidTransition
            )
            if changing and status in saga.CANCELLABLE:
                expected = ChangeInProgress  # one thing at a time: a cancel waits for the change's end
        else:
            expected = None if status == "on_hold" else NotOnHold
        assert type(result.error) is (expected or type(None)), f"{action} in {status}: {result.error!r}"
        if (expected is None and status == "on_hold") or (
            action == "cancel" and status in saga.CANCELLABLE and not changing
        ):
            assert self.order.status != status, f"{action} left the order {status}"
        event(f"{action} in {status}{'' if result.error is None else ': refused'}")
        self.sent(result.commands, action, status)
        return result

    @rule(action=st.sampled_from(["approve", "reject"]), by=st.sampled_from(PEOPLE))
    def a_person_decides(self, action: str, by: str) -> None:
        self.act(action, by)

    @rule(by=st.sampled_from(PEOPLE))
    def a_person_cancels(self, by: str) -> None:
        if self.tick < self.patience:
            return  # not yet: cancellations come at every point of the saga, not mostly at the start
        first = self.act("cancel", by)
        if first.error is None:  # a repeated cancel is accepted and changes nothing
            again = m.apply(self.order, lambda o: saga.cancel(o, by, "again", self.now()))
            assert again.error is None and not again.written and not again.commands

    @rule(lamps=st.integers(0, 4), shades=st.integers(0, 4), by=st.sampled_from(PEOPLE))
    def a_person_changes_the_order(self, lamps: int, shades: int, by: str) -> None:
        """An amendment or a line cancel (issue 8): refused with a reason where the order cannot
        change, else run by the difference only (the world answers each step)."""
        if not (lamps or shades):
            return
        status, running = self.order.status, self.order.change is not None
        names = {sku: str(p["name"]) for sku, p in Builders.catalogue.items()}
        prices = {li.sku: li.unit_price for li in self.order.lines}
        lines = [Line(sku, names[sku], q, prices.get(sku, int(Builders.catalogue[sku]["unit_price"])))
                 for sku, q in (("LAMP-1", lamps), ("SHADE-R", shades)) if q]  # fmt: skip
        asked = changes.Asked(lines=lines, reason="the customer asked")
        result = self.step("change", lambda o: saga.change_order(o, asked, by, self.now()))
        if status not in changes.CHANGEABLE or running:
            assert result.error is not None, f"a change was taken in {status}"
        event(f"change in {status}{'' if result.error is None else ': refused'}")
        self.sent(result.commands, "change", status)

    @rule(data=st.data())
    def everything_in_flight_arrives(self, data: st.DataObject) -> None:
        self.settle(data.draw)

    def settle(self, draw: m.Draw = None) -> None:
        """The world carries out every command and every reply is delivered, oldest first."""
        for _ in range(100):
            if not (self.pending or self.in_flight):
                return
            while self.pending:
                command_id, command = self.pending.pop(0)
                self.world_replies(self.world.handle(command, draw), command_id)
            while self.in_flight:
                self.deliver(*self.in_flight.pop(0))
        raise AssertionError("the saga and the world keep sending each other messages")

    # --- invariants -------------------------------------------------------------------------

    def needs_undoing(self) -> set[str]:
        started = {name for name in m.HOLDING if self.forward.get(name)}
        return started - {"credit"} if self.refused else started

    def undoing(self) -> bool:
        return bool(self.compensations) and self.compensations[-1] not in self.compensated

    @invariant()
    def an_ended_order_holds_nothing_it_started(self) -> None:
        status = self.order.status
        if status == "cancelled" or (status == "rejected" and not self.undoing()):
            assert set(self.compensations) == self.needs_undoing(), (
                f"{status}: compensated {self.compensations}, started {sorted(self.needs_undoing())}"
            )
            assert set(self.compensations) <= self.compensated
            if self.honest:
                # Money may be on its way to a cancelled order: its refund follows once it arrives.
                leaks = self.world.leaks(status, settled=not (self.pending or self.in_flight))
                assert leaks == [], f"{status} but the world {leaks}"
        elif status == "rejected":
            assert set(self.compensations) <= self.needs_undoing()
        elif status in ENDS:  # the goods left: stock committed, credit invoiced, the parcel gone
            assert self.consumed.get(c.CommitStock) == 1 and self.consumed.get(c.IssueInvoice) == 1
            assert self.dispatch_absorbed
            assert set(self.compensations) <= {"shipment"}, f"{status} after undoing {self.compensations}"
            assert "shipment" not in self.compensated  # a cancellation the dispatch overtook failed

    def teardown(self) -> None:
        if not hasattr(self, "order"):
            return
        self.settle()
        if self.order.status in saga.CANCELLABLE:
            self.act("cancel", "ops.li")
            self.settle()
        if self.order.status in ("shipped", "delivered"):
            self.world_replies(self.world.carrier("deliver"), self.new_id("carrier"))
            self.settle()
        event(f"ended {self.order.status}{'' if self.honest else ' (after a stray reply)'}")
        self.an_ended_order_holds_nothing_it_started()
        if self.honest:
            assert self.order.status in ENDS, f"stuck in {self.order.status}"
            assert self.world.leaks(self.order.status) == [], self.world.leaks(self.order.status)


OrderSaga.TestCase.settings = settings.get_profile(PROFILE)
TestOrderSaga = OrderSaga.TestCase
