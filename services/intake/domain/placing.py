"""Placing an order: the saga's first step, from a checked request to ``pending_review`` (R1, R3.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from services.intake.domain.errors import OrderInvalid
from services.intake.domain.order import Contact, Order, Payments, utcnow
from services.intake.domain.pricing import apply_prices
from services.intake.domain.screening import (
    FLAG_WHY,
    PastOrder,
    Policy,
    brushing,
    history_flags,
    plausibility_flags,
    priority,
)
from services.intake.domain.steps import reserve_credit
from services.intake.domain.validation import (
    Catalogue,
    OrderRequest,
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
    errors = validate(request, catalogue, today=today, date_optional=policy.date_optional_channels)
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
        lines=(lines := build_lines(request, catalogue)),
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
    listed = [int(catalogue[line.sku]["unit_price"]) for line in lines]
    asked = [ln.unit_price for ln in request.lines]
    notes, reviews, undercut = apply_prices(lines, asked, listed, order.channel, policy)
    order.priority = priority(order.required_by, order.total_quantity, today, policy)
    order.flags = plausibility_flags(
        customer_name=customer_name,
        phone=order.contact.phone,
        required_by=order.required_by,
        below_catalogue_price=undercut,
    )
    order.flags += history_flags(
        address=order.delivery_address, quantities=order.quantities(), at=at, past=past, policy=policy
    )
    fake = brushing(address=order.delivery_address, phone=order.contact.phone,
                    contact_name=order.contact.name, units=order.total_quantity, at=at, past=past,
                    policy=policy)  # fmt: skip
    if fake:
        order.flag("possible_brushing")
    reasons = list(reviews)
    for sku in dict.fromkeys(line.sku for line in lines if catalogue[line.sku].get("custom")):
        reasons.append(f"{sku} is a custom product: a manager approves (R2.2)")
    if policy.approval_over is not None and order.total > policy.approval_over:
        reasons.append(f"total {order.total} is over {policy.approval_over} (R2.2)")
    if order.payment_terms in policy.sign_off_terms:
        reasons.append(f"{order.payment_terms} terms: a manager signs off (R3.2)")
    largest = policy.general_manager_over is not None and order.total > policy.general_manager_over
    if largest:
        reasons.append(f"total {order.total} is over {policy.general_manager_over}: the general manager "
                       "approves after a manager (R2.2)")  # fmt: skip
    order.approval_reasons = reasons
    # R2.1: every order is reviewed; clean ones by rule, flagged ones by a reviewer, R2.2's by a
    # manager (and the largest by the general manager after one).
    tier = "general_manager" if largest else "manager" if reasons else "review" if order.flags else ""
    order.approval_tier = tier
    order.needs_approval = bool(order.approval_tier)
    order.confirmation.due_at = at + timedelta(seconds=policy.confirmation_due_s)  # R2.4
    order.set_status(INITIAL, by, f"received via {order.channel}", at)
    for note in notes:
        order.record("price_checked", "intake", note, at)
    why = {"possible_brushing": fake or ""}
    for flag in order.flags:  # every flag says why (R1.6)
        order.record("flagged", "intake", f"{flag}: {why.get(flag) or FLAG_WHY.get(flag, flag)}", at)
    return order, [reserve_credit(order)]
