"""An order whose message is parked is visible as stuck (issue 7): the mark, what clears it, who
sees it. Domain (services/intake/domain/stuck.py), the handlers on the in-memory order store, and
the two audiences of the order view."""

from __future__ import annotations

import uuid

import pytest

from services.intake import handlers
from services.intake.adapters.mapping import from_doc, to_fields
from services.intake.domain import saga, stuck
from services.intake.schemas import order_view
from services.intake.settings import Settings
from shared import contracts as c
from shared.envelope import Envelope, new_envelope
from tests.support.fakes import FakeBus, FakeOrderStore
from tests.unit.intake.builders import AT, Builders


def parked(order_id: str, message_type: str = "RaiseSupply", service: str = "fulfillment",
           message_id: str | None = None) -> c.MessageParked:  # fmt: skip
    return c.MessageParked(
        order_id=order_id,
        message_id=message_id or uuid.uuid4().hex,
        message_type=message_type,
        service=service,
        error="OverflowError: date value out of range",
        attempts=5,
    )


def delivered(message: c.Message, causation: Envelope | None = None) -> Envelope:
    return new_envelope(message, producer=message.SERVICE, causation=causation)


# --- the mark --------------------------------------------------------------------------------------


def test_a_parked_message_marks_the_order_stuck_with_step_service_error_and_time_and_keeps_its_status(
    make: Builders,
):
    order = make.order("awaiting_stock")
    history = len(order.history)

    commands = stuck.mark(order, parked(order.order_id), AT)

    [entry] = order.stuck
    assert commands == [] and order.status == "awaiting_stock"  # not a transition
    assert (entry.step, entry.message_type, entry.service, entry.since) == ("supply", "RaiseSupply",
                                                                            "fulfillment", AT)  # fmt: skip
    assert "OverflowError" in entry.error and entry.attempts == 5
    [event] = order.history[history:]
    assert (event.event, event.by, event.status) == ("MessageParked", "fulfillment", None)
    assert "RaiseSupply (supply) parked by fulfillment after 5 attempts" in event.reason


def test_a_repeated_report_of_one_parked_message_changes_nothing(make: Builders):
    order = make.order("awaiting_stock")
    report = parked(order.order_id)
    stuck.mark(order, report, AT)
    before = to_fields(order)

    stuck.mark(order, report, AT)

    assert to_fields(order) == before


@pytest.mark.parametrize(
    ("message_type", "step"),
    [("ReserveCredit", "credit"), ("ReleaseStock", "stock"), ("StockReserved", "stock"),
     ("CreateShipment", "shipment"), ("ReceiveSupply", "supply"), ("RestockReturn", "return"),
     ("SomethingNew", "SomethingNew")],
)  # fmt: skip
def test_every_message_is_named_by_the_step_it_belongs_to(message_type: str, step: str):
    assert stuck.step_of(message_type) == step


def test_the_mark_reads_back_from_the_document_and_dates_the_order_as_stuck_since_the_oldest(make: Builders):
    order = make.order("approved")
    stuck.mark(order, parked(order.order_id, "ReserveStock", "inventory"), AT)

    doc = to_fields(order)

    assert doc["stuck_since"] == AT
    assert from_doc({**doc, "version": 1}).stuck == order.stuck
    assert to_fields(make.order("approved"))["stuck_since"] is None


# --- what clears it ------------------------------------------------------------------------------


def test_the_reply_to_a_replayed_command_clears_the_mark(make: Builders):
    order = make.order("approved")
    command = new_envelope(c.ReserveStock(order_id=order.order_id, lines=[]), producer="intake")
    stuck.mark(order, parked(order.order_id, "ReserveStock", "inventory", command.message_id), AT)
    reply = delivered(make.stock_reserved(order), causation=command)  # a person replayed it
    before = dict(order.saga.steps)

    saga.on_reply(order, make.stock_reserved(order), message_id=reply.message_id, at=AT)
    stuck.clear_passed(order, reply.message_id, reply.causation_id, before, AT)

    assert order.stuck == [] and order.status == "ready_to_ship"
    assert order.history[-1].event == "stuck_cleared" and "ReserveStock (stock)" in order.history[-1].reason


def test_a_replayed_reply_that_went_through_clears_its_own_mark(make: Builders):
    order = make.order("booked")
    reply = delivered(make.dispatched(order))
    stuck.mark(order, parked(order.order_id, "ShipmentDispatched", "intake", reply.message_id), AT)

    stuck.clear_passed(order, reply.message_id, reply.causation_id, dict(order.saga.steps), AT)

    assert order.stuck == [] and "went through on replay" in order.history[-1].reason


def test_a_step_done_or_undone_after_all_clears_its_mark_and_only_its_own(make: Builders):
    order = make.order("awaiting_stock")  # RaiseSupply sent: the supply step has started
    stuck.mark(order, parked(order.order_id, "RaiseSupply", "fulfillment"), AT)
    stuck.mark(order, parked(order.order_id, "CommitStock", "inventory"), AT)
    before = dict(order.saga.steps)

    saga.on_reply(order, make.supply_raised(order), at=AT)  # e.g. the copy that was not parked
    stuck.clear_passed(order, uuid.uuid4().hex, None, before, AT)

    assert [entry.message_type for entry in order.stuck] == ["CommitStock"]


def test_a_message_that_moves_nothing_past_the_parked_one_leaves_the_mark(make: Builders):
    order = make.order("awaiting_stock")
    stuck.mark(order, parked(order.order_id, "ReceiveSupply", "inventory"), AT)
    completed = make.supply_completed(order, "MO-2")
    other = delivered(completed)
    before = dict(order.saga.steps)

    saga.on_reply(order, completed, message_id=other.message_id, at=AT)
    stuck.clear_passed(order, other.message_id, other.causation_id, before, AT)

    assert [entry.message_type for entry in order.stuck] == ["ReceiveSupply"]


# --- handlers and views ----------------------------------------------------------------------------


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def orders(bus: FakeBus) -> FakeOrderStore:
    return FakeOrderStore(bus)


@pytest.fixture
def intake(orders: FakeOrderStore) -> handlers.Intake:
    return handlers.Intake(Settings(), orders, None, None, None, None)  # type: ignore[arg-type]


async def test_the_handler_marks_the_stored_order_once_and_sends_nothing(intake, orders, bus, make):
    order = make.order("awaiting_stock")
    await orders.insert(order, [], {})
    message = parked(order.order_id)
    report = delivered(message)

    await handlers.message_parked(message, report, intake)
    await handlers.message_parked(message, report, intake)  # redelivered

    doc = orders.docs[order.order_id]
    assert orders.writes == 2 and bus.published == []  # the insert and one save
    assert doc["status"] == "awaiting_stock" and doc["stuck"][0]["message_type"] == "RaiseSupply"


async def test_a_parked_message_of_an_order_intake_does_not_have_is_dropped_not_parked(intake, orders, make):
    message = parked("SO202405999999")

    await handlers.message_parked(message, delivered(message), intake)  # no PermanentError

    assert orders.writes == 0


async def test_the_reply_to_the_replayed_command_clears_the_mark_through_the_handler(intake, orders, make):
    order = make.order("approved")
    await orders.insert(order, [], {})
    command = new_envelope(c.ReserveStock(order_id=order.order_id, lines=[]), producer="intake")
    message = parked(order.order_id, "ReserveStock", "inventory", command.message_id)
    await handlers.message_parked(message, delivered(message), intake)

    reserved = make.stock_reserved(order)
    await handlers.handle_reply(reserved, delivered(reserved, causation=command), intake)

    doc = orders.docs[order.order_id]
    assert (doc["stuck"], doc["stuck_since"], doc["status"]) == ([], None, "ready_to_ship")


def test_ops_see_the_stuck_step_and_the_customer_sees_neither_it_nor_its_history(make: Builders):
    order = make.order("awaiting_stock")
    stuck.mark(order, parked(order.order_id), AT)
    stuck.mark(order, parked(order.order_id, "ReceiveSupply", "inventory"), AT)
    doc = {**to_fields(order), "version": 2}

    internal = order_view(doc, internal=True).model_dump()
    public = order_view(doc, internal=False).model_dump()

    assert internal["stuck"]["message_type"] == "RaiseSupply" and internal["stuck"]["step"] == "supply"
    assert (internal["stuck"]["service"], internal["stuck"]["since"]) == ("fulfillment", AT)
    assert internal["stuck"]["parked_messages"] == 2
    assert any(h["event"] == "MessageParked" for h in internal["history"])
    assert "stuck" not in public and "MessageParked" not in str(public) and "Overflow" not in str(public)
    calm = order_view({**to_fields(make.order("approved")), "version": 1}, internal=True)
    assert calm.model_dump()["stuck"] is None
