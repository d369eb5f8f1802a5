"""What a service reports when it parks a message (shared/bus/reports.py, issue 7): one
``MessageParked`` to intake per parked message of an order, nothing for what names no order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from aio_pika.abc import AbstractIncomingMessage

from shared.bus.reports import ERROR_CHARS, parked_report
from shared.contracts import MessageParked, RaiseSupply, Shortage
from shared.envelope import new_envelope, reply_id


def delivery(body: bytes = b"{}", **properties: Any) -> AbstractIncomingMessage:
    fields = {"correlation_id": None, "type": None, "message_id": None, **properties}
    return cast(AbstractIncomingMessage, SimpleNamespace(body=body, **fields))


def a_command() -> Any:
    short = Shortage(sku="LAMP-1", quantity=2, sourcing="make", lead_time_days=7)
    return new_envelope(RaiseSupply(order_id="SO202405001", shortages=[short]), producer="intake")


def test_a_parked_command_is_reported_to_intake_under_an_id_derived_from_it():
    command = a_command()

    report = parked_report(delivery(), command, "fulfillment", "OverflowError: " + "x" * 2000, 5)

    assert report is not None and report.routing_key == "cmd.intake.MessageParked"
    message = report.message()
    assert isinstance(message, MessageParked)
    assert (message.order_id, message.message_type) == ("SO202405001", "RaiseSupply")
    assert message.message_id == command.message_id
    assert (message.service, message.attempts, report.producer) == ("fulfillment", 5, "fulfillment")
    assert len(message.error) == ERROR_CHARS  # the parked copy's x-error header keeps more
    assert report.message_id == reply_id(command, message) and report.causation_id == command.message_id
    assert report.trace == command.trace  # the order's one trace


def test_a_body_that_is_no_envelope_is_reported_from_its_amqp_properties_when_they_name_an_order():
    raw = delivery(b"{broken", correlation_id="SO202405002", type="ReserveStock", message_id="m-1")

    report = parked_report(raw, None, "inventory", "malformed envelope", 1)
    again = parked_report(raw, None, "inventory", "malformed envelope", 1)

    assert report is not None and again is not None and report.message_id == again.message_id
    message = report.message()
    assert isinstance(message, MessageParked)
    assert (message.order_id, message.message_type) == ("SO202405002", "ReserveStock")
    assert message.message_id == "m-1"


def test_nothing_is_reported_for_a_message_that_names_no_order_or_is_a_report_itself():
    report = parked_report(delivery(), a_command(), "fulfillment", "boom", 1)
    assert report is not None

    assert parked_report(delivery(b"{broken"), None, "inventory", "malformed envelope", 1) is None
    assert parked_report(delivery(), report, "intake", "store down", 5) is None  # no report of a report
