"""Every message that crosses a service boundary, in one place.

Commands are imperative and go to exactly one service (routing key
``cmd.<target>.<Type>``); events are past tense and fan out to whoever binds
to them (``evt.<producer>.<Type>``). Payloads carry ids and primitives only
(STYLE.md); money is integer fen (API.md). Each service lists what it consumes
in its own ``consumers.py``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["normal", "urgent", "key"]
Sourcing = Literal["make", "buy"]


class Message(BaseModel):
    """Base of every command and event; ``KIND``/``SERVICE`` fix its routing key."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[Literal["command", "event"]]
    SERVICE: ClassVar[str]  # target service of a command, producer of an event

    order_id: str

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @classmethod
    def routing_key(cls) -> str:
        prefix = "cmd" if cls.KIND == "command" else "evt"
        return f"{prefix}.{cls.SERVICE}.{cls.__name__}"


class Command(Message):
    KIND: ClassVar[Literal["command", "event"]] = "command"


class Event(Message):
    KIND: ClassVar[Literal["command", "event"]] = "event"


class LineQty(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(gt=0)


class PricedLine(LineQty):
    unit_price: int = Field(ge=0)
    amount: int = Field(ge=0)


class Shortage(LineQty):
    """Units of a SKU the warehouse could not reserve, with how to source them (R4.2)."""

    sourcing: Sourcing
    lead_time_days: int = Field(ge=0)


class SupplyOrderRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    supply_order_id: str
    kind: Literal["production", "purchase"]
    sku: str
    quantity: int
    expected_at: str  # ISO 8601


# --- billing: credit (R3.1) and invoicing (R6) -------------------------------------------------


class ReserveCredit(Command):
    """Hold ``amount`` of the customer's credit limit for this order; ``force`` is a person's approval."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int = Field(ge=0)
    force: bool = False


class ReleaseCredit(Command):
    """Compensation of ReserveCredit: give the held amount back (R7.1)."""

    SERVICE: ClassVar[str] = "billing"


class IssueInvoice(Command):
    """Invoice a shipped order (R6.1); the held credit becomes a receivable."""

    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    lines: list[PricedLine]
    discount: int = 0
    freight: int = 0
    total: int


class IssueCreditNote(Command):
    """Refund returned goods with a negative entry, never an edit (R6.2, R8.3)."""

    SERVICE: ClassVar[str] = "billing"
    return_id: str
    customer_id: str
    lines: list[PricedLine]
    total: int = Field(ge=0)


class CreditReserved(Event):
    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int
    exposure: int
    skipped: bool = False  # prepaid customers skip the credit check


class CreditLimitExceeded(Event):
    SERVICE: ClassVar[str] = "billing"
    customer_id: str
    amount: int
    exposure: int
    credit_limit: int
    reason: str


class CreditReleased(Event):
    SERVICE: ClassVar[str] = "billing"
    amount: int


class InvoiceIssued(Event):
    SERVICE: ClassVar[str] = "billing"
    invoice_id: str
    total: int
    tax: int


class CreditNoteIssued(Event):
    SERVICE: ClassVar[str] = "billing"
    return_id: str
    credit_note_id: str
    total: int  # negative: it offsets the invoice
    tax: int


class PaymentReceived(Event):
    SERVICE: ClassVar[str] = "billing"
    payment_id: str
    amount: int


# --- inventory: stock (R4.1, R4.2) -----------------------------------------------------------


class ReserveStock(Command):
    """Reserve every line, never more than available; what cannot be reserved is reported short."""

    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]
    priority: Priority = "normal"


class ReleaseStock(Command):
    """Compensation of ReserveStock: every unit held for the order goes back to available."""

    SERVICE: ClassVar[str] = "inventory"


class ReceiveSupply(Command):
    """A supply order arrived: on-hand goes up and the units are held for the order that waited."""

    SERVICE: ClassVar[str] = "inventory"
    supply_order_id: str
    sku: str
    quantity: int = Field(gt=0)


class CommitStock(Command):
    """The goods left the warehouse: held units leave on-hand and reserved."""

    SERVICE: ClassVar[str] = "inventory"


class RestockReturn(Command):
    """Put returned, sellable goods back on hand (R8.3)."""

    SERVICE: ClassVar[str] = "inventory"
    return_id: str
    lines: list[LineQty]


class StockReserved(Event):
    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class StockShort(Event):
    SERVICE: ClassVar[str] = "inventory"
    reserved: list[LineQty]
    shortages: list[Shortage]


class StockReceived(Event):
    SERVICE: ClassVar[str] = "inventory"
    supply_order_id: str
    sku: str
    quantity: int


class StockReleased(Event):
    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class StockCommitted(Event):
    SERVICE: ClassVar[str] = "inventory"
    lines: list[LineQty]


class ReturnRestocked(Event):
    SERVICE: ClassVar[str] = "inventory"
    return_id: str
    lines: list[LineQty]


# --- fulfillment: production and purchase (R4.2) ---------------------------------------------


class RaiseSupply(Command):
    """Raise a production order for ``make`` SKUs and a purchase order for ``buy`` SKUs."""

    SERVICE: ClassVar[str] = "fulfillment"
    shortages: list[Shortage]
    priority: Priority = "normal"


class CancelSupply(Command):
    """Compensation of RaiseSupply: open supply orders of the order are cancelled (R7.1)."""

    SERVICE: ClassVar[str] = "fulfillment"


class SupplyRaised(Event):
    SERVICE: ClassVar[str] = "fulfillment"
    supply_orders: list[SupplyOrderRef]


class SupplyCompleted(Event):
    SERVICE: ClassVar[str] = "fulfillment"
    supply_order_id: str
    sku: str
    quantity: int


class SupplyCancelled(Event):
    SERVICE: ClassVar[str] = "fulfillment"
    supply_order_ids: list[str]


# --- logistics: shipping (R5) ----------------------------------------------------------------


class CreateShipment(Command):
    """Book a carrier by the rules of R5.1 and assign a tracking number (R5.2)."""

    SERVICE: ClassVar[str] = "logistics"
    customer_id: str
    delivery_address: str
    contact_name: str
    contact_phone: str
    amount: int
    lines: list[LineQty]
    priority: Priority = "normal"


class CancelShipment(Command):
    """Compensation of CreateShipment: only possible before dispatch (R7.1)."""

    SERVICE: ClassVar[str] = "logistics"


class ShipmentCreated(Event):
    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    carrier: str
    mode: str
    tracking_number: str


class ShipmentDispatched(Event):
    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    tracking_number: str
    at: str


class ShipmentDelivered(Event):
    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    at: str


class ShipmentDelayed(Event):
    """A carrier exception (delay or loss) that a person must act on (R5.3)."""

    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str
    type: Literal["delayed", "lost"]
    note: str = ""


class ShipmentCancelled(Event):
    SERVICE: ClassVar[str] = "logistics"
    shipment_id: str | None = None  # None when nothing had been booked yet


# --- aftersales: returns (R8.3) --------------------------------------------------------------


class ReturnCompleted(Event):
    SERVICE: ClassVar[str] = "aftersales"
    return_id: str
    lines: list[LineQty]
    refund_total: int
    credit_note_id: str


class ReturnRejected(Event):
    SERVICE: ClassVar[str] = "aftersales"
    return_id: str
    reason: str


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.__name__: cls
    for cls in (
        ReserveCredit, ReleaseCredit, IssueInvoice, IssueCreditNote,
        CreditReserved, CreditLimitExceeded, CreditReleased, InvoiceIssued, CreditNoteIssued,
        PaymentReceived,
        ReserveStock, ReleaseStock, ReceiveSupply, CommitStock, RestockReturn,
        StockReserved, StockShort, StockReceived, StockReleased, StockCommitted, ReturnRestocked,
        RaiseSupply, CancelSupply, SupplyRaised, SupplyCompleted, SupplyCancelled,
        CreateShipment, CancelShipment,
        ShipmentCreated, ShipmentDispatched, ShipmentDelivered, ShipmentDelayed, ShipmentCancelled,
        ReturnCompleted, ReturnRejected,
    )
}  # fmt: skip
