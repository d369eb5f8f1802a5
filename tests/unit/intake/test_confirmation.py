"""The order confirmation (issue 8, R2.4): sent on approval, answered, sent again, and its deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain import confirmation as cf
from services.intake.domain import saga
from services.intake.domain.errors import InvalidTransition
from shared import contracts as c
from tests.unit.intake.builders import AT


def due(order) -> c.DeadlinePassed:
    at = order.confirmation.due_at
    return c.DeadlinePassed(order_id=order.order_id, timer="confirmation", due_at=at.isoformat())


def test_the_first_confirmation_goes_out_when_the_order_is_approved_and_is_due_two_hours_after_receipt(make):
    placed = make.order("pending_review")
    assert placed.confirmation.version == 0 and placed.confirmation.due_at == AT + timedelta(hours=2)

    order = make.order("approved")
    assert (order.confirmation.version, order.confirmation.status) == (1, "sent")
    assert any(h.event == "confirmation_sent" for h in order.history)


def test_a_confirmation_late_raises_a_breach_once_and_one_in_time_none(make):
    waiting = make.order("approved", contact_phone="12345")  # flagged: on hold, nothing sent yet
    saga.on_deadline(waiting, due(waiting), AT)
    saga.on_deadline(waiting, due(waiting), AT)

    assert "confirmation_late" in waiting.flags and waiting.confirmation.breached_at is not None
    assert [h.event for h in waiting.history].count("confirmation_breach") == 1
    assert waiting.status == "on_hold"  # a breach tells people; the order waits as before

    sent = make.order("approved")
    saga.on_deadline(sent, due(sent), AT)
    assert sent.confirmation.breached_at is None


def test_the_customer_accepts_or_asks_for_changes_and_a_person_confirms_again(make):
    order = make.order("approved")
    cf.ask_changes(order, "shop.web", "3 instead of 2", AT)
    assert order.confirmation.status == "changes_requested"
    with pytest.raises(InvalidTransition):
        cf.accept(order, "shop.web", AT)

    cf.confirm_again(order, "ops.zhao", "quantities changed", AT)
    cf.accept(order, "shop.web", AT)
    cf.accept(order, "shop.web", AT)  # repeated: nothing more

    assert (order.confirmation.version, order.confirmation.status) == (2, "accepted")
    assert [h.event for h in order.history].count("confirmation_accepted") == 1


def test_nothing_is_confirmed_before_approval(make):
    with pytest.raises(InvalidTransition):
        cf.confirm_again(make.order("pending_review"), "ops.zhao", "early", AT)
