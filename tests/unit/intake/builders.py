"""Builders for intake's pure tests: a catalogue, requests, replies and orders at any saga stage."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.intake.domain import saga
from services.intake.domain.order import Order
from services.intake.domain.screening import PastOrder, Policy
from services.intake.domain.validation import LineRequest, OrderRequest
from shared import contracts as c

TODAY = date(2024, 5, 10)
AT = datetime(2024, 5, 10, 2, 0, tzinfo=UTC)
CATALOGUE = {
    "LAMP-1": {"name": "Desk lamp", "unit_price": 12000, "sourcing": "make", "lead_time_days": 7},
    "SHADE-R": {"name": "Lamp shade red", "unit_price": 3000, "sourcing": "buy", "lead_time_days": 3},
}


class Builders:
    """Requests, orders driven to a named stage, and the replies other services send."""

    catalogue = CATALOGUE
    today = TODAY
    at = AT

    def request(self, **overrides: Any) -> OrderRequest:
        base = OrderRequest(
            customer_id="C-ACME",
            channel="storefront",
            delivery_address="1 Nanjing Road, Shanghai",
            contact_name="Li Lei",
            contact_phone="13812345678",
            lines=[LineRequest(sku="LAMP-1", quantity=2), LineRequest(sku="SHADE-R", quantity=3)],
            required_by=TODAY + timedelta(days=10),
            discount=500,
            freight=1000,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def place(
        self, policy: Policy | None = None, past: list[PastOrder] | None = None, **overrides: Any
    ) -> tuple[Order, list[c.Command]]:
        order_id = f"SO202405{uuid.uuid4().int % 10**6:06d}"
        return saga.place(
            order_id,
            self.request(**overrides),
            CATALOGUE,
            customer_name="Shanghai ACME Trading Co., Ltd.",
            policy=policy or Policy(),
            today=TODAY,
            at=AT,
            past=past or [],
        )

    def order(self, stage: str = "pending_review", policy: Policy | None = None, **overrides: Any) -> Order:
        """An order driven through the replies that lead to `stage` (see STAGES)."""
        order, _ = self.place(policy, **overrides)
        for reply in STAGES[stage]:
            saga.on_reply(order, reply(self, order), message_id=new_id(), at=AT)
        return order

    # --- replies ---------------------------------------------------------------------------
    def credit_reserved(self, order: Order) -> c.Event:
        return c.CreditReserved(
            order_id=order.order_id, customer_id=order.customer_id, amount=order.total, exposure=order.total
        )

    def credit_refused(self, order: Order) -> c.Event:
        return c.CreditLimitExceeded(
            order_id=order.order_id,
            customer_id=order.customer_id,
            amount=order.total,
            exposure=900_000,
            credit_limit=500_000,
            reason="over the credit limit",
        )

    def stock_reserved(self, order: Order) -> c.Event:
        return c.StockReserved(order_id=order.order_id, lines=saga.line_quantities(order))

    def stock_short(self, order: Order) -> c.Event:
        return c.StockShort(
            order_id=order.order_id,
            reserved=[c.LineQty(sku="SHADE-R", quantity=3)],
            shortages=[c.Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7)],
        )

    def supply_raised(self, order: Order, expected_at: str = "2024-05-17T00:00:00+00:00") -> c.Event:
        ref = c.SupplyOrderRef(
            supply_order_id="MO-1", kind="production", sku="LAMP-1", quantity=2, expected_at=expected_at
        )
        return c.SupplyRaised(order_id=order.order_id, supply_orders=[ref])

    def supply_completed(self, order: Order, supply_order_id: str = "MO-1") -> c.Event:
        return c.SupplyCompleted(
            order_id=order.order_id, supply_order_id=supply_order_id, sku="LAMP-1", quantity=2
        )

    def stock_received(self, order: Order) -> c.Event:
        return c.StockReceived(order_id=order.order_id, supply_order_id="MO-1", sku="LAMP-1", quantity=2)

    def shipment_created(self, order: Order) -> c.Event:
        return c.ShipmentCreated(
            order_id=order.order_id,
            shipment_id="SH-1",
            carrier="SF Express",
            mode="express",
            tracking_number="SF100200300",
        )

    def dispatched(self, order: Order) -> c.Event:
        return c.ShipmentDispatched(
            order_id=order.order_id,
            shipment_id="SH-1",
            tracking_number="SF100200300",
            at="2024-05-11T09:00:00+08:00",
        )

    def delivered(self, order: Order) -> c.Event:
        return c.ShipmentDelivered(
            order_id=order.order_id, shipment_id="SH-1", at="2024-05-12T15:00:00+08:00"
        )

    def delayed(self, order: Order) -> c.Event:
        return c.ShipmentDelayed(order_id=order.order_id, shipment_id="SH-1", type="delayed", note="typhoon")

    def stock_committed(self, order: Order) -> c.Event:
        return c.StockCommitted(order_id=order.order_id, lines=saga.line_quantities(order))

    def invoice_issued(self, order: Order) -> c.Event:
        return c.InvoiceIssued(order_id=order.order_id, invoice_id="INV-1", total=order.total, tax=1000)

    def returned(self, order: Order, lines: dict[str, int] | None = None, return_id: str = "RT-1") -> c.Event:
        items = [c.LineQty(sku=s, quantity=q) for s, q in (lines or order.quantities()).items()]
        return c.ReturnCompleted(
            order_id=order.order_id,
            return_id=return_id,
            lines=items,
            refund_total=1000,
            credit_note_id=f"CN-{return_id}",
        )

    def compensation_reply(self, command: c.Command) -> c.Event:
        """The reply a service sends once it has undone a step."""
        oid = command.order_id
        return {
            c.ReleaseCredit: lambda: c.CreditReleased(order_id=oid, amount=100),
            c.ReleaseStock: lambda: c.StockReleased(order_id=oid, lines=[]),
            c.CancelSupply: lambda: c.SupplyCancelled(order_id=oid, supply_order_ids=["MO-1"]),
            c.CancelShipment: lambda: c.ShipmentCancelled(order_id=oid, shipment_id="SH-1"),
            c.RefundPayments: lambda: c.PaymentsRefunded(order_id=oid, refund_ids=["RF-1"], amount=100),
        }[type(command)]()


STAGES = {
    "pending_review": [],
    "on_hold": [Builders.credit_refused],
    "approved": [Builders.credit_reserved],
    "awaiting_stock": [Builders.credit_reserved, Builders.stock_short],
    "supply_raised": [Builders.credit_reserved, Builders.stock_short, Builders.supply_raised],
    "supplied": [
        Builders.credit_reserved,
        Builders.stock_short,
        Builders.supply_raised,
        Builders.supply_completed,
        Builders.stock_received,
        Builders.stock_reserved,
    ],
    "ready_to_ship": [Builders.credit_reserved, Builders.stock_reserved],
    "booked": [Builders.credit_reserved, Builders.stock_reserved, Builders.shipment_created],
    "shipped": [
        Builders.credit_reserved,
        Builders.stock_reserved,
        Builders.shipment_created,
        Builders.dispatched,
    ],
    "delivered": [
        Builders.credit_reserved,
        Builders.stock_reserved,
        Builders.shipment_created,
        Builders.dispatched,
        Builders.stock_committed,
        Builders.delivered,
    ],
    "completed": [
        Builders.credit_reserved,
        Builders.stock_reserved,
        Builders.shipment_created,
        Builders.dispatched,
        Builders.stock_committed,
        Builders.delivered,
        Builders.invoice_issued,
    ],
    "returned": [
        Builders.credit_reserved,
        Builders.stock_reserved,
        Builders.shipment_created,
        Builders.dispatched,
        Builders.delivered,
        Builders.invoice_issued,
        Builders.returned,
    ],
}


def new_id() -> str:
    return uuid.uuid4().hex
