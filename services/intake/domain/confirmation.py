"""The order confirmation (R2.4): the document the customer gets once the order is approved, their
answer, and the deadline of the first one.

The first confirmation goes out when the order is approved (by rule or by a person); it is due
``INTAKE_CONFIRMATION_DUE_H`` (2 h) after receipt: a durable timer set when the order is placed
raises a breach (flag ``confirmation_late``, GET /confirmation-breaches) if none went out by then.
The customer accepts it or asks for changes; a person then confirms again (a new version) until
one is accepted. Applying the changes themselves is the amendment of issue 8, not built yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.intake.domain.errors import InvalidTransition
from services.intake.domain.order import Order
from shared.contracts import OrderConfirmed, PricedLine

CONFIRMATION_TIMER = "confirmation"


def send(order: Order, at: datetime, by: str = "intake", why: str = "") -> None:
    """Issue the next version of the confirmation (recorded as sent through the order's channel)."""
    conf = order.confirmation
    conf.version, conf.status, conf.sent_at = conf.version + 1, "sent", at
    conf.answered_at = conf.answered_by = None
    late = " (after its deadline)" if conf.version == 1 and conf.breached_at else ""
    order.record("confirmation_sent", by, f"version {conf.version} sent via {order.channel}{late}"
                 + (f": {why}" if why else ""), at)  # fmt: skip


def first_on_approval(order: Order, at: datetime) -> None:
    """Approved (by rule or a person): the first confirmation goes out, once."""
    if order.confirmation.version == 0:
        send(order, at)


def accept(order: Order, by: str, at: datetime) -> list[OrderConfirmed]:
    """The customer accepts; finance, the warehouse and logistics are told (R2.5), once."""
    conf = order.confirmation
    if conf.status == "accepted":
        return []  # a repeated acceptance changes nothing
    if conf.status != "sent":
        raise InvalidTransition(f"order {order.order_id} has no confirmation to accept ({conf.status})")
    conf.status, conf.answered_at, conf.answered_by = "accepted", at, by
    told = "finance, warehouse and logistics told (R2.5)"
    order.record("confirmation_accepted", by, f"version {conf.version}; {told}", at)
    lines = [PricedLine(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount)
             for ln in order.lines]  # fmt: skip
    return [OrderConfirmed(
        order_id=order.order_id, customer_id=order.customer_id, confirmation_version=conf.version,
        amount=order.total, currency=order.currency, payment_terms=order.payment_terms or "", lines=lines,
        delivery_address=order.delivery_address, contact_name=order.contact.name,
        required_by=order.required_by.isoformat() if order.required_by else "", priority=order.priority,
    )]  # fmt: skip


def ask_changes(order: Order, by: str, text: str, at: datetime) -> None:
    conf = order.confirmation
    if conf.status not in ("sent", "changes_requested"):
        raise InvalidTransition(f"order {order.order_id}'s confirmation is {conf.status}: nothing to change")
    conf.status, conf.answered_at, conf.answered_by = "changes_requested", at, by
    conf.requests.append({"at": at, "by": by, "text": text, "version": conf.version})
    order.record("confirmation_changes_requested", by, text, at)


def confirm_again(order: Order, by: str, why: str, at: datetime) -> None:
    if order.confirmation.version == 0:
        raise InvalidTransition(f"order {order.order_id} is not approved yet: nothing to confirm")
    send(order, at, by, why)


# --- the deadline row (saga.py) ------------------------------------------------------------------


def late(order: Order, e: Any) -> bool:
    conf = order.confirmation
    return conf.version == 0 and conf.breached_at is None


def breached(order: Order, e: Any, at: datetime) -> Any:
    from services.intake.domain.reactions import Outcome

    order.confirmation.breached_at = at
    order.flag("confirmation_late")
    due = order.confirmation.due_at.isoformat() if order.confirmation.due_at else "?"
    order.record("confirmation_breach", "intake", f"no confirmation sent by {due} (R2.4)", at)
    return Outcome()
