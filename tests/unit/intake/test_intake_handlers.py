"""Intake's handlers against in-memory fakes of their ports (tests/support/fakes.py): what a reply,
a duplicate, a lost race or a person's decision writes and sends. The same store behaviour is held
to the Mongo adapter by tests/integration/intake/test_order_store_contract.py."""

from __future__ import annotations

import pytest

from services.intake import handlers
from services.intake.domain.errors import NotOnHold
from services.intake.settings import Settings
from shared.envelope import Envelope, new_envelope
from shared.errors import PermanentError
from tests.support.fakes import FakeBus, FakeOrderStore
from tests.unit.intake.builders import Builders


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def orders(bus: FakeBus) -> FakeOrderStore:
    return FakeOrderStore(bus)


@pytest.fixture
def intake(orders: FakeOrderStore) -> handlers.Intake:
    return handlers.Intake(Settings(), orders, None, None, None, None)  # type: ignore[arg-type]


def delivered(message) -> Envelope:  # type: ignore[no-untyped-def]
    return new_envelope(message, producer=message.SERVICE)


async def stored(orders: FakeOrderStore, stage: str, make: Builders):  # type: ignore[no-untyped-def]
    order = make.order(stage)
    await orders.insert(order, [], {})
    return order


async def test_a_reply_moves_the_order_with_one_write_and_sends_its_commands_once(intake, orders, bus, make):
    order = await stored(orders, "booked", make)

    await handlers.handle_reply(make.dispatched(order), delivered(make.dispatched(order)), intake)

    assert orders.docs[order.order_id]["status"] == "shipped"
    assert orders.writes == 2  # the insert, then one save
    assert sorted(bus.types()) == ["CommitStock", "IssueInvoice"]
    assert orders.docs[order.order_id]["outbox"] == {}  # cleared by id after the publish


async def test_a_duplicate_reply_writes_nothing_and_sends_nothing(intake, orders, bus, make):
    order = await stored(orders, "booked", make)
    first = delivered(make.dispatched(order))
    await handlers.handle_reply(first.message(), first, intake)
    writes, sent = orders.writes, list(bus.published)

    await handlers.handle_reply(first.message(), first, intake)  # the same delivery again
    again = delivered(make.dispatched(order))  # the same report under a new id: stale by state
    await handlers.handle_reply(again.message(), again, intake)

    assert (orders.writes, bus.published) == (writes, sent)


async def test_a_lost_race_is_decided_again_on_what_the_winner_wrote(intake, orders, bus, make):
    order = await stored(orders, "booked", make)
    winner = delivered(make.dispatched(order))

    async def racing_writer() -> None:  # the dispatch report lands first, through another replica
        await handlers.handle_reply(winner.message(), winner, intake)

    orders.before_next_save.append(racing_writer)
    loser = delivered(make.delivered(order))
    await handlers.handle_reply(loser.message(), loser, intake)

    doc = orders.docs[order.order_id]
    assert doc["status"] == "delivered"  # decided again from "shipped", not from the stale "ready_to_ship"
    assert [h["status"] for h in doc["history"] if h["status"]][-2:] == ["shipped", "delivered"]
    assert sorted(bus.types()) == ["CommitStock", "IssueInvoice"]  # shipped once: no second invoice


async def test_a_reply_for_an_order_intake_does_not_have_is_parked(intake, make):
    order = make.order("booked")  # never stored

    with pytest.raises(PermanentError, match="does not have"):
        await handlers.handle_reply(make.dispatched(order), delivered(make.dispatched(order)), intake)


async def test_a_person_approving_an_order_that_is_not_on_hold_is_refused_and_nothing_is_written(
    intake, orders, bus, make
):
    order = await stored(orders, "ready_to_ship", make)

    with pytest.raises(NotOnHold):
        await handlers.approve_order(intake, order.order_id, "mgr.liu", "fine")

    assert orders.writes == 1 and bus.published == []


async def test_cancelling_sends_the_newest_compensation_first(intake, orders, bus, make):
    order = await stored(orders, "ready_to_ship", make)

    doc = await handlers.cancel_order(intake, order.order_id, "customer", "changed mind")

    assert doc["status"] == "cancelling"
    assert bus.types() == ["CancelShipment"]  # R7.1: newest first, one at a time
