"""Credit check and its compensation over the real broker and store (R3.1, R7.1)."""

from __future__ import annotations

import pytest

from shared.contracts import ReleaseCredit, ReserveCredit
from tests.integration.billing.builders import a_customer, credit_of, uid
from tests.support.barriers import handled, synced

pytestmark = pytest.mark.integration


async def test_an_order_within_the_limit_is_held_and_replied_reserved(http, probe):
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")

    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=60_000))

    reply = (await probe.wait_for("CreditReserved", order_id))[0]
    assert (reply.payload["amount"], reply.payload["exposure"], reply.payload["skipped"]) == (
        60_000,
        60_000,
        False,
    )
    assert (await credit_of(http, customer_id))["available_credit"] == 40_000


async def test_credit_over_the_limit_is_refused_and_adds_no_exposure(http, probe):
    customer_id, order_id = await a_customer(http, limit=10_000), uid("SO")

    command = await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=50_000))

    reply = (await probe.wait_for("CreditLimitExceeded", order_id))[0]
    assert reply.causation_id == command.message_id
    assert "exceeds credit limit 10000" in reply.payload["reason"]
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_a_persons_approval_forces_the_hold_over_the_limit(http, probe):
    customer_id, order_id = await a_customer(http, limit=10_000), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=50_000))
    await probe.wait_for("CreditLimitExceeded", order_id)

    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=50_000, force=True))

    await probe.wait_for("CreditReserved", order_id)
    assert (await credit_of(http, customer_id))["exposure"] == 50_000


async def test_a_duplicate_reserve_credit_holds_once(http, probe):
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")
    command = await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))

    await probe.publish(command.message(), envelope=command)  # the very same envelope, redelivered
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))

    await probe.wait_for("CreditReserved", order_id, count=3)
    assert (await credit_of(http, customer_id))["exposure"] == 30_000


async def test_prepaid_customers_skip_the_check_and_hold_nothing(http, probe):
    customer_id, order_id = await a_customer(http, limit=0, terms="prepaid"), uid("SO")

    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=900_000))

    reply = (await probe.wait_for("CreditReserved", order_id))[0]
    assert reply.payload["skipped"] is True
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_release_gives_back_exactly_what_was_held(http, probe):
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))
    await probe.wait_for("CreditReserved", order_id)

    await probe.publish(ReleaseCredit(order_id=order_id))

    assert (await probe.wait_for("CreditReleased", order_id))[0].payload["amount"] == 30_000
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_release_then_late_reserve_does_nothing(http, probe, stack):
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")

    await probe.publish(ReleaseCredit(order_id=order_id))
    assert (await probe.wait_for("CreditReleased", order_id))[0].payload["amount"] == 0
    late = await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))
    await handled(stack, "billing", late)  # the tombstone answered it: acked, no reply
    await synced(probe)

    assert probe.matching("CreditReserved", order_id) == probe.matching("CreditLimitExceeded", order_id) == []
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_credit_for_a_customer_billing_does_not_know_is_refused_with_a_reason(probe):
    order_id = uid("SO")

    await probe.publish(ReserveCredit(order_id=order_id, customer_id=uid("GHOST"), amount=1))

    reply = (await probe.wait_for("CreditLimitExceeded", order_id))[0]
    assert "unknown to billing" in reply.payload["reason"]
