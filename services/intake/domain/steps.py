"""The steps of the order saga: the command that starts each, and the compensation that undoes it.

A step is recorded as *started* when its command is staged, *done* when its reply arrives,
*compensated* when the compensation's reply arrives (docs/ARCHITECTURE.md). Cancellation walks
STEPS backwards, newest first, one compensation at a time (R7.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.domain.order import Order
from shared.contracts import (
    CancelShipment,
    CancelSupply,
    Command,
    CommitStock,
    CreateShipment,
    CreditReleased,
    Event,
    IssueInvoice,
    LineQty,
    PaymentsRefunded,
    PricedLine,
    RaiseSupply,
    RefundPayments,
    ReleaseCredit,
    ReleaseStock,
    ReserveCredit,
    ReserveStock,
    ShipmentCancelled,
    StockReleased,
    StockShort,
    SupplyCancelled,
)


@dataclass(frozen=True)
class Step:
    """A saga step: the command that starts it and the compensation (with its reply) that undoes it.

    ``holds`` says whether the step takes something another order could want (credit, stock,
    supply, a carrier booking): such a step must have a compensation (checked in lifecycle.py).
    """

    name: str
    command: type[Command] | None  # None: nothing of ours starts it (money arrives from outside)
    compensation: type[Command] | None
    compensated_by: type[Event] | None
    holds: bool
    why_none: str = ""  # for a step without compensation: what undoes it instead


# In the order steps start; cancellation walks it backwards (newest first, R7.1).
STEPS: tuple[Step, ...] = (
    Step("credit", ReserveCredit, ReleaseCredit, CreditReleased, holds=True),
    Step("stock", ReserveStock, ReleaseStock, StockReleased, holds=True),  # also undoes ReceiveSupply
    Step("supply", RaiseSupply, CancelSupply, SupplyCancelled, holds=True),
    # Money received for the order (R3.2) is held for the customer (R7.1, R6.2). It is refunded
    # once the carrier booking is cancelled: a dispatch that overtakes the cancellation keeps it.
    Step("payment", None, RefundPayments, PaymentsRefunded, holds=True),
    Step("shipment", CreateShipment, CancelShipment, ShipmentCancelled, holds=True),
    Step("commit", CommitStock, None, None, holds=False, why_none="after dispatch, a return (R7.3)"),
    Step("invoice", IssueInvoice, None, None, holds=False, why_none="a credit note (R6.2)"),
)
STEP_BY_NAME = {step.name: step for step in STEPS}
UNDONE_BY = {step.compensated_by: step.name for step in STEPS if step.compensated_by}
COMPENSABLE = ("started", "done")  # a started step may be in flight: it is compensated too


def start(order: Order, step: str, command: Command) -> Command:
    """Record the step as started (its command is about to be staged) and return the command."""
    expected = STEP_BY_NAME[step].command
    assert expected is not None and isinstance(command, expected)
    order.saga.steps[step] = "started"
    return command


def line_quantities(order: Order) -> list[LineQty]:
    """Units per SKU the warehouse handles, as message lines: bundles expanded into their
    components (R1.9), two specs of one SKU one reservation. The invoice keeps the order lines."""
    return [LineQty(sku=sku, quantity=qty) for sku, qty in order.stock_quantities().items()]


def reserve_credit(order: Order, force: bool = False) -> Command:
    command = ReserveCredit(
        order_id=order.order_id,
        customer_id=order.customer_id,
        amount=order.total,
        force=force,
        payment_terms=order.payment_terms or "",
        currency=order.currency,
    )
    return start(order, "credit", command)


def reserve_stock(order: Order) -> Command:
    command = ReserveStock(order_id=order.order_id, lines=line_quantities(order), priority=order.priority)  # type: ignore[arg-type]
    return start(order, "stock", command)


def raise_supply(order: Order, short: StockShort) -> Command:
    command = RaiseSupply(order_id=order.order_id, shortages=short.shortages, priority=order.priority)  # type: ignore[arg-type]
    return start(order, "supply", command)


def create_shipment(order: Order) -> Command:
    command = CreateShipment(
        order_id=order.order_id,
        customer_id=order.customer_id,
        delivery_address=order.delivery_address,
        contact_name=order.contact.name,
        amount=order.total,
        lines=line_quantities(order),
        priority=order.priority,  # type: ignore[arg-type]
        booking=order.saga.booking,
    )
    return start(order, "shipment", command)


def ship(order: Order) -> list[Command]:
    """The goods left: stock is committed and the invoice requested (R6.1)."""
    order.saga.steps["shipment"] = "done"
    invoice = IssueInvoice(
        order_id=order.order_id,
        customer_id=order.customer_id,
        discount=order.discount,
        freight=order.freight,
        total=order.total,
        prices_include_tax=order.prices_include_tax,
        currency=order.currency,
        lines=[
            PricedLine(sku=li.sku, quantity=li.quantity, unit_price=li.unit_price, amount=li.amount)
            for li in order.lines
        ],
    )
    return [start(order, "commit", CommitStock(order_id=order.order_id)), start(order, "invoice", invoice)]


def compensate_next(order: Order) -> list[Command]:
    """The compensation of the newest step not yet undone, or nothing when none is left."""
    for step in reversed(STEPS):
        if step.compensation is not None and order.saga.steps.get(step.name) in COMPENSABLE:
            order.saga.steps[step.name] = "compensating"
            order.saga.compensating = step.name
            why = {"reason": order.saga.end_reason} if "reason" in step.compensation.model_fields else {}
            return [step.compensation(order_id=order.order_id, **why)]
    order.saga.compensating = None
    return []
