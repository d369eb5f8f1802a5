"""A customer's credit: the limit and the exposure that orders and invoices put against it (R3.1).

Exposure is credit held for open orders plus invoiced receivables not yet paid. Every
order has one ``OrderCredit`` entry, keyed by order id, that remembers what happened to it,
so each operation is idempotent per order and a release leaves a tombstone behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .errors import AlreadyInvoiced, PaymentConflict, UnknownOrder

PaymentTerms = Literal["credit", "prepaid", "deposit"]
PAYMENT_TERMS: tuple[str, ...] = ("credit", "prepaid", "deposit")

# Life of an order's credit entry. ``refused`` may be retried (a person's approval forces it);
# ``released`` is final: a late ReserveCredit after its compensation does nothing.
HELD, SKIPPED, REFUSED, RELEASED, INVOICED = "held", "skipped", "refused", "released", "invoiced"


@dataclass
class OrderCredit:
    """The customer's position for one order: held before invoicing, receivable after."""

    state: str
    requested: int = 0  # what ReserveCredit asked for
    held: int = 0  # credit reserved and not yet invoiced
    released: int = 0  # what ReleaseCredit gave back, replayed on duplicates
    receivable: int = 0  # invoiced and not yet paid
    paid: int = 0  # deposits and payments received for the order (R3.2)
    forced: bool = False  # held over the limit on a person's approval
    invoice_id: str | None = None
    credit_notes: dict[str, int] = field(default_factory=dict)  # return id -> amount credited

    @property
    def exposure(self) -> int:
        return self.held + self.receivable


@dataclass(frozen=True)
class Payment:
    """Money received for an order; the reference (bank slip, transfer id) makes it unique."""

    reference: str
    order_id: str
    amount: int
    received_at: datetime


@dataclass(frozen=True)
class CreditDecision:
    """Outcome of a credit check; ``ignored`` means the order was released before (tombstone)."""

    outcome: Literal["reserved", "skipped", "refused", "ignored"]
    amount: int
    exposure: int
    credit_limit: int
    reason: str = ""
    repeated: bool = False  # a duplicate: nothing changed, the first answer is given again


@dataclass
class Customer:
    """Credit terms of one customer and its per-order credit entries."""

    customer_id: str
    name: str
    payment_terms: str
    credit_limit: int
    orders: dict[str, OrderCredit] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    version: int = 0

    @property
    def exposure(self) -> int:
        return sum(entry.exposure for entry in self.orders.values())

    @property
    def available_credit(self) -> int:
        return max(0, self.credit_limit - self.exposure)

    def update_terms(self, name: str, payment_terms: str, credit_limit: int) -> None:
        """Change name and terms; holds already taken stay as they are."""
        self.name, self.payment_terms, self.credit_limit = name, payment_terms, credit_limit

    def reserve(self, order_id: str, amount: int, force: bool = False) -> CreditDecision:
        """Hold ``amount`` unless it would push exposure over the limit (R3.1)."""
        entry = self.orders.get(order_id)
        if entry is not None and entry.state == RELEASED:
            return self._decision("ignored", 0)
        if entry is not None and entry.state in (HELD, SKIPPED, INVOICED):
            # A duplicate command: nothing changes, the original answer is repeated.
            outcome = "skipped" if entry.state == SKIPPED else "reserved"
            return self._decision(outcome, entry.held, repeated=True)
        paid = entry.paid if entry is not None else 0
        if self.payment_terms == "prepaid":
            # Prepaid orders ship only once paid (R3.3), so they put no credit at risk.
            self.orders[order_id] = OrderCredit(SKIPPED, requested=amount, paid=paid)
            return self._decision("skipped", 0)
        # Money already received for the order (R3.1: "asked to prepay part") needs no credit.
        needed = max(0, amount - paid)
        exposure = self.exposure
        if not force and exposure + needed > self.credit_limit:
            refused_before = entry is not None and entry.state == REFUSED and entry.requested == amount
            if not refused_before:
                self.orders[order_id] = OrderCredit(REFUSED, requested=amount, paid=paid)
            reason = (
                f"exposure {exposure} + order {needed} exceeds credit limit {self.credit_limit} "
                f"of customer {self.customer_id}"
            )
            return self._decision("refused", amount, reason, repeated=refused_before)
        self.orders[order_id] = OrderCredit(HELD, requested=amount, held=needed, paid=paid, forced=force)
        return self._decision("reserved", needed)

    def release(self, order_id: str) -> int:
        """Give back exactly what is held for the order (R7.1); remember it so a late reserve is void."""
        entry = self.orders.get(order_id)
        if entry is None:
            self.orders[order_id] = OrderCredit(RELEASED)
            return 0
        if entry.state == RELEASED:
            return entry.released
        if entry.state == INVOICED:
            # Invoiced credit is a receivable now; only a credit note reduces it (R6.2).
            return 0
        entry.released, entry.held, entry.state = entry.held, 0, RELEASED
        return entry.released

    def release_changes(self, order_id: str) -> bool:
        """Whether ``release`` would change anything; False for a duplicate or an invoiced order."""
        entry = self.orders.get(order_id)
        return entry is None or entry.state not in (RELEASED, INVOICED)

    def paid_for(self, order_id: str) -> int:
        """Deposits and payments already received for the order, deducted on its invoice (R6.1)."""
        entry = self.orders.get(order_id)
        return entry.paid if entry is not None else 0

    def invoice(self, order_id: str, invoice_id: str, total: int) -> bool:
        """Turn the order's hold into a receivable of what is still unpaid; False if already done."""
        entry = self.orders.setdefault(order_id, OrderCredit(INVOICED))
        if entry.invoice_id == invoice_id:
            return False
        if entry.invoice_id is not None:
            raise AlreadyInvoiced(f"order {order_id} already has invoice {entry.invoice_id}")
        entry.held, entry.receivable = 0, max(0, total - entry.paid)
        entry.state, entry.invoice_id = INVOICED, invoice_id
        return True

    def credit(self, order_id: str, return_id: str, amount: int) -> bool:
        """A credit note reduces what the customer owes for the order; False if already applied."""
        entry = self.orders.setdefault(order_id, OrderCredit(INVOICED))
        if return_id in entry.credit_notes:
            return False
        entry.credit_notes[return_id] = amount
        entry.receivable -= min(amount, entry.receivable)
        return True

    def record_payment(self, payment: Payment) -> bool:
        """Apply money received to the order's receivable or hold; False for a repeated reference."""
        known = self.payments.get(payment.reference)
        if known is not None:
            if (known.order_id, known.amount) != (payment.order_id, payment.amount):
                raise PaymentConflict(f"reference {payment.reference} was used for another payment")
            return False
        entry = self.orders.get(payment.order_id)
        if entry is None:
            raise UnknownOrder(f"no order {payment.order_id} for customer {self.customer_id}")
        self.payments[payment.reference] = payment
        entry.paid += payment.amount
        if entry.state == INVOICED:
            entry.receivable -= min(payment.amount, entry.receivable)
        else:
            entry.held -= min(payment.amount, entry.held)
        return True

    def _decision(self, outcome, amount: int, reason: str = "", repeated: bool = False) -> CreditDecision:
        return CreditDecision(outcome, amount, self.exposure, self.credit_limit, reason, repeated)
