"""Who may do what on the bus (issue 7), against the real RabbitMQ: each service is its own user,
the broker limits what that user may publish and read, and a consumer refuses a command whose
sender the code does not name, whichever way it arrived.

The forger is logistics: its credentials are the ones a compromised carrier integration would leak,
and ``ReleaseCredit`` (a compensation only intake's saga sends) would quietly free a customer's
credit.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused, ChannelPreconditionFailed

from shared.bus import Bus, Names
from shared.bus.access import bus_user, service_url
from shared.bus.users import clear_topic_permissions, provision
from shared.contracts import ReleaseCredit, ReserveCredit
from shared.envelope import Envelope, new_envelope
from shared.settings import ServiceSettings
from tests.integration.billing.builders import a_customer, credit_of, uid
from tests.support.barriers import eventually, handled, lines_about, parked_logged, parked_until
from tests.support.stack import Stack
from tests.support.topology import delete_topology

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(make_stack: Callable[..., Stack], amqp_url: str) -> Iterator[Stack]:
    stack = make_stack("billing")
    # A second provisioning in this session (idempotent), with topic permissions on this stack's
    # exchange: they belong to one exchange by name, and test stacks have random prefixes.
    provision(amqp_url, prefix=stack.prefix)
    yield stack
    clear_topic_permissions(amqp_url, stack.prefix)


@pytest.fixture
async def as_service(amqp_url: str) -> AsyncIterator[Callable[[str], Any]]:
    """``await as_service("logistics")``: a connection with that service's own credentials."""
    connections: list[aio_pika.abc.AbstractConnection] = []

    async def connect(service: str) -> aio_pika.abc.AbstractConnection:
        connection = await aio_pika.connect(service_url(amqp_url, service))
        connections.append(connection)
        return connection

    yield connect
    for connection in connections:
        await connection.close()


async def _ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    return None


def _amqp(env: Envelope, **properties: Any) -> aio_pika.Message:
    return aio_pika.Message(
        env.model_dump_json().encode(),
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type="application/json",
        message_id=env.message_id,
        type=env.type,
        **properties,
    )


async def _held_credit(http: Any, probe: Any) -> tuple[str, str, int]:
    """A customer with 30 000 held for an order, reserved the way the saga does (the operator's probe)."""
    customer_id, order_id = await a_customer(http, limit=100_000), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=30_000))
    await probe.wait_for("CreditReserved", order_id)
    exposure = (await credit_of(http, customer_id))["exposure"]
    assert exposure == 30_000
    return customer_id, order_id, exposure


async def _parked_copy(probe: Any, env: Envelope) -> dict[str, object]:
    """Billing's parked copy of ``env`` (other tests of the module may park their own)."""
    for body, headers in await parked_until(probe, "billing", 1):
        if Envelope.model_validate_json(body).message_id == env.message_id:
            return headers
    raise AssertionError(f"{env.message_id} is not among billing's parked messages")


async def test_the_broker_refuses_a_forged_release_credit_and_the_credit_stays_held(
    stack, http, probe, as_service
):
    customer_id, order_id, exposure = await _held_credit(http, probe)
    logistics = await as_service("logistics")
    channel = await logistics.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(f"{stack.prefix}.bus", ensure=False)
    forged = new_envelope(ReleaseCredit(order_id=order_id), producer="intake")

    with pytest.raises(ChannelAccessRefused, match=r"topic 'cmd\.billing\.ReleaseCredit'"):
        await exchange.publish(_amqp(forged, user_id=bus_user("logistics")), routing_key=forged.routing_key)

    assert (await credit_of(http, customer_id))["exposure"] == exposure
    assert lines_about(stack, "billing", forged.message_id) == []


async def test_billing_parks_a_forged_release_credit_that_went_around_the_topic_exchange(
    stack, http, probe, as_service
):
    # Write on the default exchange (each service's retry and parking copies) routes to any queue
    # by name: RabbitMQ cannot narrow it, so the consumer's sender check is what holds here.
    customer_id, order_id, exposure = await _held_credit(http, probe)
    channel = await (await as_service("logistics")).channel(publisher_confirms=True)
    forged = new_envelope(ReleaseCredit(order_id=order_id), producer="intake")

    await channel.default_exchange.publish(
        _amqp(forged, user_id=bus_user("logistics")), routing_key=Names(stack.prefix, "billing").queue
    )

    await parked_logged(stack, "billing", forged)
    headers = await _parked_copy(probe, forged)
    assert "ReleaseCredit sent by 'oms-logistics'; only oms-intake may send it" in str(headers["x-error"])
    assert headers["x-sender"] == "oms-logistics"
    assert "message handled" not in [line["msg"] for line in lines_about(stack, "billing", forged.message_id)]
    assert probe.matching("CreditReleased", order_id) == []
    assert (await credit_of(http, customer_id))["exposure"] == exposure


async def test_a_claimed_sender_header_or_no_user_id_is_refused_too(stack, http, probe, as_service):
    customer_id, order_id, exposure = await _held_credit(http, probe)
    channel = await (await as_service("logistics")).channel(publisher_confirms=True)
    queue = Names(stack.prefix, "billing").queue
    claims = new_envelope(ReleaseCredit(order_id=order_id), producer="intake")
    anonymous = new_envelope(ReleaseCredit(order_id=order_id), producer="intake")

    # x-sender is believed only on billing's own retry copies (their user_id is oms-billing).
    claimed = _amqp(claims, user_id=bus_user("logistics"), headers={"x-sender": bus_user("intake")})
    await channel.default_exchange.publish(claimed, routing_key=queue)
    await channel.default_exchange.publish(_amqp(anonymous), routing_key=queue)

    await parked_logged(stack, "billing", claims)
    await parked_logged(stack, "billing", anonymous)
    assert "carries no user_id" in str((await _parked_copy(probe, anonymous))["x-error"])
    assert (await credit_of(http, customer_id))["exposure"] == exposure


async def test_the_broker_refuses_a_user_id_that_is_not_the_connections_user(stack, as_service):
    channel = await (await as_service("logistics")).channel(publisher_confirms=True)
    forged = new_envelope(ReleaseCredit(order_id=uid("SO")), producer="intake")
    queue = Names(stack.prefix, "billing").queue  # a path its write permission allows

    with pytest.raises(ChannelPreconditionFailed, match="user_id property set to 'oms-intake'"):
        await channel.default_exchange.publish(_amqp(forged, user_id=bus_user("intake")), routing_key=queue)


async def test_the_real_sender_is_obeyed_on_the_same_path(stack, http, probe, as_service):
    customer_id, order_id, _ = await _held_credit(http, probe)
    channel = await (await as_service("intake")).channel(publisher_confirms=True)
    exchange = await channel.get_exchange(f"{stack.prefix}.bus", ensure=False)
    release = new_envelope(ReleaseCredit(order_id=order_id), producer="intake")

    await exchange.publish(_amqp(release, user_id=bus_user("intake")), routing_key=release.routing_key)

    await handled(stack, "billing", release)
    assert (await probe.wait_for("CreditReleased", order_id))[0].payload["amount"] == 30_000
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_a_service_user_cannot_read_or_take_over_another_services_queue(stack, as_service):
    logistics = await as_service("logistics")
    billing_queue = Names(stack.prefix, "billing").queue
    own = Names(stack.prefix, "logistics")

    async def refused(action: Callable[[aio_pika.abc.AbstractChannel], Any], what: str) -> None:
        channel = await logistics.channel()  # a refusal closes the channel: one per attempt
        with pytest.raises(ChannelAccessRefused, match=what):
            await action(channel)

    async def consume(channel: aio_pika.abc.AbstractChannel) -> None:
        queue = await channel.get_queue(billing_queue, ensure=False)
        await queue.consume(_ignore)

    async def declare(channel: aio_pika.abc.AbstractChannel) -> None:
        await channel.declare_queue(billing_queue, durable=True, arguments={"x-queue-type": "quorum"})

    async def delete(channel: aio_pika.abc.AbstractChannel) -> None:
        await channel.queue_delete(billing_queue)

    async def bind_billing_commands(channel: aio_pika.abc.AbstractChannel) -> None:
        queue = await channel.declare_queue(own.queue, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.bind(f"{stack.prefix}.bus", routing_key="cmd.billing.#")

    await refused(consume, f"queue '{billing_queue}'")
    await refused(declare, f"queue '{billing_queue}'")
    await refused(delete, f"queue '{billing_queue}'")
    await refused(bind_billing_commands, r"topic 'cmd\.billing\.#'")
    cleanup = await logistics.channel()
    await cleanup.queue_delete(own.queue)  # its own queue it may declare and delete


async def test_the_service_is_on_the_bus_as_its_own_user(stack):
    connected = [line for line in stack.log_lines("billing") if line.get("msg") == "connected to the bus"]
    assert connected and {line["bus_user"] for line in connected} == {"oms-billing"}
    assert not [line for line in stack.log_lines("billing") if "operator account" in str(line.get("msg"))]


class BillingBus(ServiceSettings):
    service_name: ClassVar[str] = "billing"


async def test_a_retried_command_keeps_its_sender_through_the_retry_queue(amqp_url, probe_for):
    # The retry copy is billing's own (user_id oms-billing); the x-sender header it carries is what
    # the consumer believes, so intake's command is still intake's when it comes back.
    prefix = f"p{uuid.uuid4().hex[:8]}"
    settings = BillingBus(amqp_url=service_url(amqp_url, "billing"), bus_prefix=prefix, db_prefix=prefix,
                          retry_delays_ms=[50], max_attempts=3)  # fmt: skip
    calls: list[str] = []

    async def flaky(message: ReleaseCredit, envelope: Envelope) -> None:
        calls.append(envelope.message_id)
        if len(calls) < 3:
            raise ConnectionError("store away")

    bus = Bus(settings)
    bus.subscribe(ReleaseCredit, flaky)
    try:
        await bus.connect()
        await bus.start_consuming()
        intake = await aio_pika.connect(service_url(amqp_url, "intake"))
        try:
            exchange = await (await intake.channel(publisher_confirms=True)).get_exchange(f"{prefix}.bus")
            release = new_envelope(ReleaseCredit(order_id=uid("SO")), producer="intake")
            message = _amqp(release, user_id=bus_user("intake"))
            await exchange.publish(message, routing_key=release.routing_key)
        finally:
            await intake.close()
        await eventually(lambda: len(calls) == 3, what="the third attempt")
        assert await (await probe_for(prefix)).parked("billing") == []
    finally:
        await bus.close()
        await delete_topology(amqp_url, prefix, ["billing"], settings.retry_delays_ms)
