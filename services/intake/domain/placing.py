"""Placing an order: the saga's first step, from a checked request to ``pending_review`` (R1, R3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from services.intake.domain.errors import OrderInvalid
from services.intake.domain.order import Contact, Order, Payments, utcnow
from services.intake.domain.screening import PastOrder, Policy, history_flags, plausibility_flags, priority
from services.intake.domain.steps import reserve_credit
from services.intake.domain.validation import (
    Catalogue,
    OrderRequest,
    below_catalogue_price,
    build_lines,
    validate,
)
from shared.contracts import Command
from shared.terms import normalise

INITIAL = "pending_review"


def place(
    order_id: str,
    request: OrderRequest,
    catalogue: Catalogue,
    *,
    customer_name: str,
    policy: Policy,
    today: date,
    at: datetime | None = None,
    past: Sequence[PastOrder] = (),
    by: str = "intake",
) -> tuple[Order, list[Command]]:
    """Accept a checked order (R1.4, R1.5), rank and screen it (R1.6, R1.7), ask for credit (R3.1)."""
    errors = validate(request, catalogue)
    if errors:
        raise OrderInvalid(errors)
    at = at or utcnow()
    order = Order(
        order_id=order_id,
        customer_id=request.customer_id or "",
        customer_name=customer_name,
        channel=request.channel or "",
        delivery_address=request.delivery_address or "",
        contact=Contact(name=request.contact_name or "", phone=request.contact_phone or ""),
        lines=build_lines(request, catalogue),
        created_at=at,
        payment_terms=normalise(request.payment_terms) or "credit",
        currency=request.currency,
        prices_include_tax=request.prices_include_tax,
        tax_rate_bp=policy.vat_rate_bp,
        payments=Payments(
            deposit_percent=policy.deposit_percent,
            wait_s=policy.payment_wait_s,
            reminders_s=[s for s in policy.payment_reminders_s if s < policy.payment_wait_s],
        ),
        required_by=request.required_by,
        discount=request.discount,
        freight=request.freight,
        remarks=request.remarks,
    )
    order.priority = priority(order.required_by, order.total_quantity, today, policy)
    order.flags = plausibility_flags(
        customer_name=customer_name,
        phone=order.contact.phone,
        required_by=order.required_by,
        below_catalogue_price=below_catalogue_price(request, catalogue),
    )
    order.flags += history_flags(
        address=order.delivery_address, quantities=order.quantities(), at=at, past=past, policy=policy
    )
    large = policy.approval_over is not None and order.total > policy.approval_over
    order.needs_approval = large or order.payment_terms in policy.sign_off_terms  # R2.2, R3.2
    order.set_status(INITIAL, by, f"received via {order.channel}", at)
    return order, [reserve_credit(order)]
