"""One order's account with billing (R3.1, R3.3, R6, R7.1): its own document, since issue 5.

The account remembers what happened to the order's credit (``state``), the money received
(payments, one per reference) and given back (refunds, new negative entries, never an edit of a
payment, R6.2), its invoice and credit notes. From these facts alone it computes what it puts
against the customer's limit (``mark()``: held, receivable and a sequence number), which
services/billing/exposure.py carries over to the customer's running totals.

``seq`` moves whenever the mark changes, and when a credit check starts or is left for anything
but its own outcome, so a stale writer of the customer's totals can always be told apart.

An order change (issue 8, R7.2, R4.2) makes the hold the order's new total (``adjust``): a decrease
is applied at once, an increase is a credit check of the difference (state ``checking``, a new
``seq``, ``adjusting`` naming the change) settled by ``settle_adjust``. Each change's answer is kept
in ``changes`` by its id, so a redelivered AdjustCredit is answered the same and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import (
    AlreadyInvoiced,
    CreditCheckRunning,
    CurrencyMismatch,
    OrderClosed,
    Overpayment,
)
from .money import Mark, Payment, Refund, refund_id

# Life of an order's credit. ``refused`` may be retried (a person's approval forces it); ``released``
# is final: a late ReserveCredit after its compensation does nothing. ``checking``: the customer's
# document is deciding (exposure.py), for a moment.
NEW, CHECKING, HELD, SKIPPED, REFUSED, RELEASED, INVOICED = (
    "new",
    "checking",
    "held",
    "skipped",
    "refused",
    "released",
    "invoiced",
)
HOLDING = (CHECKING, HELD)
ADJUSTABLE = (HELD, SKIPPED)  # what an order change may adjust: a hold, or terms that hold nothing


@dataclass(frozen=True)
class CreditChange:
    """The answer to one order change's AdjustCredit (repeated to its duplicates): ``amount`` is
    the order's new total the change asked for; ``exposure`` the customer's with the hold as it is
    after the answer (as seen), ``credit_limit`` the limit it was held to."""

    accepted: bool
    amount: int
    exposure: int = 0
    credit_limit: int = 0
    reason: str = ""
    refunded: int = 0  # paid beyond the new, lower total: owed back by refund entries (R7.2)


@dataclass
class OrderAccount:
    """The order as billing keeps it: credit state, money in and out, documents."""

    order_id: str
    customer_id: str | None
    payment_terms: str = ""
    currency: str = "CNY"
    total: int = 0  # what the customer pays (gross): ReserveCredit's amount, the invoice's once issued
    state: str = NEW
    requested: int = 0  # what ReserveCredit asked for
    forced: bool = False  # held over the limit on a person's approval
    answer: str = ""  # the credit answer given: reserved, skipped, refused (repeated to duplicates)
    answer_amount: int = 0
    answer_exposure: int = 0  # the customer's exposure the credit answer named
    answer_limit: int = 0
    answer_reason: str = ""
    released: int = 0  # what ReleaseCredit gave back, repeated to duplicates
    seq: int = 0
    payments: dict[str, Payment] = field(default_factory=dict)  # reference -> payment
    refunds: dict[str, Refund] = field(default_factory=dict)  # refund id -> negative entry
    invoice_id: str | None = None
    invoiced: int = 0
    credit_notes: dict[str, int] = field(default_factory=dict)  # return id -> gross amount credited
    closed: str = ""  # why payments are refused: "released", "refunded"; "" while open
    closing_refunds: list[str] = field(default_factory=list)  # the ids RefundPayments answered with
    adjusting: str = ""  # the change whose increase is being checked (state checking), else ""
    adjusting_from: int = 0  # what was requested before that change: the hold a refusal keeps
    changes: dict[str, CreditChange] = field(default_factory=dict)  # change id -> its answer
    version: int = 0

    # --- figures ----------------------------------------------------------------------------

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments.values())

    @property
    def refunded(self) -> int:
        return -sum(r.amount for r in self.refunds.values())

    @property
    def paid_total(self) -> int:
        """Everything received for the order so far, net of refunds (PaymentReceived.paid_total)."""
        return self.paid - self.refunded

    @property
    def credited(self) -> int:
        return sum(self.credit_notes.values())

    @property
    def owed(self) -> int:
        """What the order costs the customer now: its total, or its invoice less credit notes."""
        return self.invoiced - self.credited if self.invoice_id else self.total

    @property
    def held(self) -> int:
        return max(0, self.requested - self.paid_total) if self.state in HOLDING else 0

    @property
    def receivable(self) -> int:
        return max(0, self.owed - self.paid_total) if self.state == INVOICED else 0

    @property
    def due(self) -> int:
        """What is left to pay (0 once paid, and for a closed order)."""
        return 0 if self.closed else max(0, self.owed - self.paid_total)

    def mark(self) -> Mark:
        return Mark(self.held, self.receivable, self.seq)

    def _moved(self, before: tuple[int, int], fence: bool = False) -> None:
        if fence or (self.held, self.receivable) != before:
            self.seq += 1

    @property
    def forcing(self) -> bool:
        """Whether the running check holds over the limit: a person's approval covers the amount
        it was given for, never an order change's increase."""
        return self.forced and not self.adjusting

    # --- credit (R3.1, R7.1) -----------------------------------------------------------------

    def start_check(self, amount: int, force: bool) -> None:
        """Ask the customer's document for a hold of what is not paid yet (from new or refused)."""
        self.state, self.requested, self.forced = CHECKING, amount, force
        if not self.invoice_id:
            self.total = amount
        self.seq += 1  # the check's own number: only its outcome may settle it

    def settle_check(self, reserved: bool, exposure: int, limit: int, reason: str = "") -> None:
        """The customer's answer to the check started at this ``seq``."""
        before = (self.held, self.receivable)
        self.answer, self.answer_amount = ("reserved", self.held) if reserved else ("refused", self.requested)
        self.state = HELD if reserved else REFUSED
        self.answer_exposure, self.answer_limit, self.answer_reason = exposure, limit, reason
        if not reserved:
            self._moved(before, fence=True)  # a late copy of the hold must not count any more

    def skip(self, amount: int, exposure: int) -> None:
        """Terms that hold no credit (prepaid, R3.3): nothing is put at risk."""
        self.state, self.requested, self.answer_exposure = SKIPPED, amount, exposure
        self.answer, self.answer_amount = "skipped", 0
        if not self.invoice_id:
            self.total = amount

    def release(self, checked_hold: int | None = None) -> int:
        """Give back what is held (R7.1) and take no more money; ``checked_hold`` is what the
        customer's document holds for a check in progress. Invoiced credit is a receivable now:
        only a credit note reduces it (R6.2), so this returns 0 and changes nothing."""
        if self.state in (RELEASED, INVOICED):
            return self.released if self.state == RELEASED else 0
        before = (self.held, self.receivable)
        was_checking = self.state == CHECKING
        self.released = checked_hold if was_checking and checked_hold is not None else self.held
        self.state, self.closed = RELEASED, self.closed or "released"
        self.adjusting, self.adjusting_from = "", 0  # a change checked meanwhile is answered refused
        self._moved(before, fence=was_checking)
        return self.released

    def releasing_changes(self) -> bool:
        return self.state not in (RELEASED, INVOICED)

    # --- an order change (issue 8, R7.2, R4.2) ------------------------------------------------

    def adjust(
        self, change_id: str, customer_id: str, amount: int, others: int, limit: int, *, at: datetime
    ) -> CreditChange | None:
        """Make the hold ``amount`` (the order's new gross total) for the change ``change_id``, seen
        for the first time: ``others`` is the customer's exposure without this order and ``limit``
        its credit limit, as read. Returns the answer decided and recorded here (a decrease or no
        increase, terms that hold nothing, a refusal for the state; money paid beyond a lower total
        is owed back at ``at``, refund entries caused by the change); None for an increase, which
        the customer's document must check: the account is ``checking`` it at a new ``seq`` (and
        None again for a copy that finds this change's check running: take it on)."""
        assert change_id not in self.changes, "a known change is answered again, not decided"
        if self.state == CHECKING:
            if self.adjusting == change_id:
                return None
            raise CreditCheckRunning(f"order {self.order_id}'s credit check is running; change it after that")
        why = self._not_adjustable(customer_id)
        if why:
            return self._answered(
                change_id, CreditChange(False, amount, others + self.mark().exposure, limit, why)
            )
        before = (self.held, self.receivable)
        if self.state == HELD and max(0, amount - self.paid_total) > self.held:
            self.adjusting, self.adjusting_from = change_id, self.requested
            self.state, self.requested = CHECKING, amount
            self.seq += 1  # the increase's own number: only its outcome may settle it
            return None
        self.requested = self.total = amount
        excess = self.paid_total - amount
        why = f"order change {change_id}: the new total {amount} is less than was paid (R7.2)"
        refunds = self._refund(excess, why, change_id, at) if excess > 0 else []
        self._moved(before)
        back = -sum(r.amount for r in refunds)
        return self._answered(
            change_id, CreditChange(True, amount, others + self.mark().exposure, limit, refunded=back)
        )

    def settle_adjust(self, reserved: bool, exposure: int, limit: int, reason: str = "") -> CreditChange:
        """The customer's answer to the increase checked at this ``seq``: the new hold is held (the
        new total counts), or the hold stays as it was, at a new ``seq`` so that a late copy of the
        increase cannot count. ``exposure`` is the customer's after the answer."""
        assert self.state == CHECKING and self.adjusting, "only an order change's check is settled here"
        change_id, amount = self.adjusting, self.requested
        self.state = HELD
        if reserved:
            self.total = amount
        else:
            self.requested = self.adjusting_from
            self.seq += 1
        self.adjusting, self.adjusting_from = "", 0
        return self._answered(change_id, CreditChange(reserved, amount, exposure, limit, reason))

    def _answered(self, change_id: str, answer: CreditChange) -> CreditChange:
        self.changes[change_id] = answer
        return answer

    def _not_adjustable(self, customer_id: str) -> str:
        """Why this account's credit cannot follow an order change ("" when it can)."""
        order = f"order {self.order_id}"
        if self.closed == "refunded":
            return f"{order}'s payments were refunded (cancelled or rejected): its credit cannot change"
        if self.state not in ADJUSTABLE:
            return {
                NEW: f"{order} holds no credit: its credit check has not run",
                REFUSED: f"{order}'s credit was refused: it holds nothing to adjust until a check passes",
                RELEASED: f"{order}'s credit was released (cancelled or rejected): nothing to adjust",
                INVOICED: f"{order} is invoiced: its credit is a receivable, changed only by a credit note",
            }.get(self.state, f"{order}'s credit is {self.state}: nothing to adjust")
        if customer_id != self.customer_id:
            return f"{order} is customer {self.customer_id}'s, not {customer_id}'s"
        return ""

    # --- documents (R6.1, R6.2) --------------------------------------------------------------

    def invoice(self, invoice_id: str, total: int) -> bool:
        """The hold becomes a receivable of what is still unpaid; False if done before."""
        if self.invoice_id == invoice_id:
            return False
        if self.invoice_id is not None:
            raise AlreadyInvoiced(f"order {self.order_id} already has invoice {self.invoice_id}")
        before = (self.held, self.receivable)
        self.invoice_id, self.invoiced, self.total, self.state = invoice_id, total, total, INVOICED
        self.adjusting, self.adjusting_from = "", 0  # a change checked meanwhile is answered refused
        self._moved(before)
        return True

    def credit(self, return_id: str, amount: int, at: datetime) -> list[Refund]:
        """A credit note lowers what the customer owes; money received beyond what is now owed is
        owed back: refund entries against the newest payments (R8.3, R6.2). [] if done before."""
        if return_id in self.credit_notes:
            return []
        before = (self.held, self.receivable)
        self.credit_notes[return_id] = amount
        excess = self.paid_total - max(0, self.owed)
        refunds = (
            self._refund(excess, f"credit note for return {return_id}", return_id, at) if excess > 0 else []
        )
        self._moved(before)
        return refunds

    # --- money (R3.3, R7.1) ------------------------------------------------------------------

    def check_payment(self, amount: int, currency: str) -> None:
        """Refuse, with the state in the message, money this order cannot take."""
        if self.closed:
            why = "its credit was released" if self.closed == "released" else "its payments were refunded"
            raise OrderClosed(f"order {self.order_id} takes no payments: {why} (cancelled or rejected)")
        if self.state == CHECKING:
            raise CreditCheckRunning(f"order {self.order_id}'s credit check is running; send it again")
        if currency != self.currency:
            raise CurrencyMismatch(
                f"order {self.order_id} is in {self.currency}, not {currency}",
                {"currency": f"must be {self.currency}"},
            )
        if self.paid_total + amount > self.owed:
            raise Overpayment(
                f"order {self.order_id} costs {self.owed}, {self.paid_total} received so far: "
                f"{amount} more would be {self.paid_total + amount - self.owed} too much",
                {"amount": f"at most {max(0, self.owed - self.paid_total)}"},
            )

    def add_payment(self, payment: Payment) -> bool:
        """Apply money received (checked by ``check_payment``); False for a reference seen before."""
        if payment.reference in self.payments:
            return False
        self.check_payment(payment.amount, payment.currency)
        before = (self.held, self.receivable)
        self.payments[payment.reference] = payment
        self._moved(before)
        return True

    def refund_all(self, reason: str, at: datetime) -> tuple[list[str], int, bool]:
        """Owe back every payment not refunded yet, as new negative entries, and take no more
        money (R7.1 "deposits refunded"). Returns the ids, the amount and whether it was new."""
        if self.closed == "refunded":
            return (
                list(self.closing_refunds),
                -sum(self.refunds[r].amount for r in self.closing_refunds),
                False,
            )
        if self.state == CHECKING:  # the check settles in a moment; the bus retries this
            raise CreditCheckRunning(f"order {self.order_id}'s credit check is running; refund after it")
        before = (self.held, self.receivable)
        refunds = self._refund(self.paid_total, reason, "cancel", at)
        self.closed, self.closing_refunds = "refunded", [r.refund_id for r in refunds]
        self._moved(before)
        return list(self.closing_refunds), -sum(r.amount for r in refunds), True

    def _refund(self, amount: int, reason: str, cause: str, at: datetime) -> list[Refund]:
        """Entries of ``amount`` in all, newest payment first, none beyond what a payment brought."""
        left, made = amount, []
        for payment in sorted(
            self.payments.values(), key=lambda p: (p.received_at, p.reference), reverse=True
        ):
            back = min(left, payment.amount - self.refunded_of(payment.reference))
            if back <= 0:
                continue
            refund = Refund(
                refund_id(self.order_id, payment.reference, cause),
                payment.reference,
                -back,
                reason,
                at,
                cause,
            )
            self.refunds[refund.refund_id] = refund
            made.append(refund)
            left -= back
            if left == 0:
                break
        return made

    def refunded_of(self, reference: str) -> int:
        return -sum(r.amount for r in self.refunds.values() if r.payment_id == reference)
