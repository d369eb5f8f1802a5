"""The Order aggregate: what was ordered (R1.2), its status and history (R9.2, R9.3), saga facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from shared.tax import gross_of

Channel = Literal["storefront", "offline_store", "sales_rep", "phone", "email", "distributor", "edi", "erp"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]  # R1.1
# Other words channels use for themselves (API.md, the seeds' 线上): stored as the first spelling.
CHANNEL_ALIASES: dict[str, str] = {
    "online": "storefront", "线上": "storefront",
    "offline": "offline_store", "线下门店": "offline_store", "线下": "offline_store",
    "channel_partner": "distributor", "渠道商": "distributor",
}  # fmt: skip
CHANNEL_WORDS: tuple[str, ...] = (*CHANNELS, *CHANNEL_ALIASES)


def normalise_channel(word: str | None) -> str | None:
    """The channel a client's word names (case and spaces ignored); unknown words stay as given."""
    if word is None:
        return None
    key = word.strip().lower()
    return CHANNEL_ALIASES.get(key, key if key in CHANNELS else word)


Status = Literal[
    "pending_review",
    "on_hold",
    "approved",
    "awaiting_stock",
    "awaiting_payment",
    "ready_to_ship",
    "shipped",
    "delivered",
    "completed",
    "cancelling",
    "cancelled",
    "rejected",
    "returned",
    "partially_returned",
    "merged",
]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

# Once the goods have left, cancelling is no longer possible: it becomes a return (R7.3).
SHIPPED_OR_LATER = frozenset({"shipped", "delivered", "completed", "returned", "partially_returned"})

StepStatus = Literal["started", "done", "failed", "compensating", "compensated"]


def epoch_ms(at: datetime) -> int:
    """Milliseconds since the epoch: how claim deadlines are kept (a number compares on any store)."""
    return int(at.timestamp() * 1000)


def utcnow() -> datetime:
    """The current time in UTC (the only clock the domain reads, and only as a default)."""
    return datetime.now(UTC)


@dataclass
class Line:
    """One order line; the amount is derived so it can never disagree with quantity x price (R1.5).

    A line of a bundle (R1.9) keeps the bundle's SKU, name and price (what the customer bought
    and is invoiced for) and its ``components`` per unit as the catalogue had them at placement:
    stock, supply and shipping work on those (``Order.stock_quantities``). Empty: a plain product.
    """

    sku: str
    name: str
    quantity: int
    unit_price: int  # fen
    spec: str | None = None
    components: dict[str, int] = field(default_factory=dict)  # component SKU -> units per unit

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price

    def stock_quantities(self) -> dict[str, int]:
        """The units that leave the warehouse for this line: its components x quantity, or itself."""
        if not self.components:
            return {self.sku: self.quantity}
        return {sku: per_unit * self.quantity for sku, per_unit in self.components.items()}


@dataclass
class Contact:
    name: str
    phone: str  # internal only: never shown to outside clients (R1.2)


@dataclass
class HistoryEntry:
    """One traceable step: who, when, what, why (R9.3); either a status change or an event."""

    at: datetime
    by: str
    reason: str = ""
    status: str | None = None
    event: str | None = None


@dataclass
class SupplyOrder:
    """A production or purchase order raised for a shortage of this order (R4.2)."""

    supply_order_id: str
    kind: str
    sku: str
    quantity: int
    expected_at: str
    status: Literal["raised", "completed", "received", "cancelled"] = "raised"


@dataclass
class Stuck:
    """A message of the order a service parked: where it waits for a person (issue 7, stuck.py)."""

    message_id: str
    message_type: str
    step: str
    service: str
    error: str
    since: datetime
    attempts: int = 1


@dataclass
class Confirmation:
    """Where the order's confirmation stands (R2.4, domain/confirmation.py); version 0 = none sent."""

    version: int = 0
    status: str = "none"  # none | sent | accepted | changes_requested
    sent_at: datetime | None = None
    due_at: datetime | None = None  # the first one's deadline (R2.4)
    answered_at: datetime | None = None
    answered_by: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # {at, by, text} of each change asked
    breached_at: datetime | None = None


@dataclass
class Change:
    """An amendment or a line cancel of an accepted order (issue 8, R7.2, R4.2; domain/changes.py):
    what it asks, which step it is at, and how it ended. Orders keep every change (R9.3)."""

    change_id: str
    kind: str  # "amendment" | "line_cancel" | "merge"
    by: str
    reason: str
    at: datetime
    lines: list[Line]  # the order's lines once the change is applied
    old_lines: list[Line]
    total: int  # the new gross total
    old_total: int
    delivery_address: str | None = None  # None: unchanged
    required_by: date | None = None  # None: unchanged
    # [holding_shipment ->] checking_supply -> adjusting_credit -> adjusting_stock -> changing_supply
    # -> applied | refused; a merge waits in ``absorbing`` for the other order's lines
    status: str = "checking_supply"
    outcome: str = ""  # why it was refused, or what it did
    missing: dict[str, int] = field(default_factory=dict)  # units still short per SKU after the stock step
    reserved_meanwhile: bool = False  # a StockReserved for the new quantities came during the change
    ended_at: datetime | None = None
    merge_from: str | None = None  # a merge (R1.8): the order whose lines this one takes on
    absorbed: bool = False  # a merge: the other order's lines came (AbsorbOrder)


@dataclass
class Payments:
    """Money for the order (R3.2, R3.3, R7.1): what came in and went back, the gates passed and
    the one it waits at. The policy fields are the settings at placement, kept with the order."""

    received: dict[str, int] = field(default_factory=dict)  # payment id -> amount
    paid: int = 0  # net of refunds, as billing counts it (PaymentReceived.paid_total)
    refunded: int = 0
    refund_ids: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # gates opened, in order
    checked_by: str | None = None  # who of finance checked the letter of credit (lc terms)
    gate: str | None = None  # the gate waited at (status awaiting_payment)
    point: str | None = None  # "supply" or "shipping"
    due: int = 0  # what must have been paid in all for that gate to open
    since: datetime | None = None
    expires_at: datetime | None = None  # unpaid then: cancelled with its compensations
    reminders_sent: int = 0
    shortages: list[dict[str, object]] = field(default_factory=list)  # waiting for the supply gate
    deposit_percent: int = 30
    wait_s: int = 72 * 3600
    reminders_s: list[int] = field(default_factory=lambda: [24 * 3600, 48 * 3600])


@dataclass
class SagaState:
    """Where the saga stands: each step's status (STEPS order), and the compensation under way."""

    steps: dict[str, StepStatus] = field(default_factory=dict)
    hold: Literal["credit", "review", "approval", "general_manager"] | None = None
    credit_forced: bool = False  # a person approved going over the credit limit
    approved_by: str | None = None
    compensating: str | None = None  # the step whose compensation reply is awaited
    outcome: Literal["cancelled", "rejected", "merged"] | None = None  # final status once compensation ends
    ended_by: str | None = None  # who cancelled or rejected, and why (R9.3)
    end_reason: str = ""
    processed: list[str] = field(default_factory=list)  # message ids already absorbed
    # The key of the next carrier booking (CreateShipment.booking): "" the first; the id of the
    # change that held the shipment after it (issue 8, R7.2), so logistics books the held one again.
    booking: str = ""


@dataclass
class Order:
    """An order from any channel (R1.1) with everything the saga learned about it."""

    order_id: str
    customer_id: str
    channel: str
    delivery_address: str
    contact: Contact
    lines: list[Line]
    created_at: datetime
    customer_name: str = ""
    payment_terms: str | None = None  # one of shared.terms.PAYMENT_TERMS (R3.2)
    currency: str = "CNY"
    prices_include_tax: bool = True  # unit prices are gross; net ones get VAT added (R1.2)
    tax_rate_bp: int = 1300  # the VAT rate at placement, basis points
    required_by: date | None = None
    discount: int = 0
    freight: int = 0
    remarks: str = ""
    priority: str = "normal"
    needs_approval: bool = False  # large order: a manager signs off (R2.2)
    approval_reasons: list[str] = field(default_factory=list)  # why a manager must (R2.2, R3.2)
    # Who decides (R2.1, R2.2): "review" (any reviewer: flags), "manager", or "general_manager" (the
    # largest: a manager first, then a general manager); "" = approved automatically by rule.
    approval_tier: str = ""
    signed_by: list[str] = field(default_factory=list)  # tiers passed: "manager" ...
    # A reviewer's exclusive claim on the order in the review queue (R2.3), until epoch ms.
    claim_by: str | None = None
    claim_until_ms: int = 0
    flags: list[str] = field(default_factory=list)
    status: str = "pending_review"
    history: list[HistoryEntry] = field(default_factory=list)
    saga: SagaState = field(default_factory=SagaState)
    shipment_id: str | None = None
    carrier: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)
    supply_orders: dict[str, SupplyOrder] = field(default_factory=dict)
    expected_delivery: date | None = None
    invoice_ids: list[str] = field(default_factory=list)
    credit_notes: list[dict[str, object]] = field(default_factory=list)
    returned_quantities: dict[str, int] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)  # return_id -> "completed" | "rejected"
    # Messages of the order a service parked, oldest first: the order is stuck (issue 7, stuck.py).
    stuck: list[Stuck] = field(default_factory=list)
    payments: Payments = field(default_factory=Payments)
    confirmation: Confirmation = field(default_factory=Confirmation)
    changes: list[Change] = field(default_factory=list)  # amendments and line cancels, oldest first
    merged_into: str | None = None  # merged into that order (R1.8): this one ends ``merged``

    @property
    def change(self) -> Change | None:
        """The change being applied, if any (one at a time, issue 8)."""
        last = self.changes[-1] if self.changes else None
        return last if last is not None and last.status not in ("applied", "refused") else None

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def net_or_gross(self) -> int:
        """Sum of lines - discount + freight (R1.5), in the basis of the prices."""
        return self.subtotal - self.discount + self.freight

    @property
    def total(self) -> int:
        """What the customer pays: the lines' sum, plus VAT when the prices are net (shared.tax)."""
        return self.total_of(self.lines)

    @property
    def amount_due(self) -> int:
        """What is still to be paid for the order (R3.3)."""
        return max(0, self.total - self.payments.paid)

    @property
    def total_quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantities(self) -> dict[str, int]:
        """Units per SKU ordered (a bundle counts as its own SKU); lines of one SKU in different
        specs are added together. What the customer bought, returns and screening compare with."""
        result: dict[str, int] = {}
        for line in self.lines:
            result[line.sku] = result.get(line.sku, 0) + line.quantity
        return result

    def stock_quantities(self) -> dict[str, int]:
        """Units per SKU the warehouse reserves, supplies and ships (R1.9): every bundle expanded
        into its components x the line's quantity, added to the same SKU ordered on its own."""
        return stock_units(self.lines)

    def total_of(self, lines: list[Line]) -> int:
        """What the customer would pay for ``lines`` on this order's discount, freight and tax
        basis (a change's new total, issue 8); ``total`` is this for the order's own lines."""
        net = sum(line.amount for line in lines) - self.discount + self.freight
        return gross_of(net, self.tax_rate_bp, self.prices_include_tax)

    def set_status(self, status: str, by: str, reason: str = "", at: datetime | None = None) -> None:
        self.status = status
        self.history.append(HistoryEntry(at=at or utcnow(), by=by, reason=reason, status=status))

    def record(self, event: str, by: str, reason: str = "", at: datetime | None = None) -> None:
        self.history.append(HistoryEntry(at=at or utcnow(), by=by, reason=reason, event=event))

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)


def stock_units(lines: list[Line]) -> dict[str, int]:
    """Units per SKU of ``lines``, bundles expanded into their components (R1.9)."""
    result: dict[str, int] = {}
    for line in lines:
        for sku, units in line.stock_quantities().items():
            result[sku] = result.get(sku, 0) + units
    return result
