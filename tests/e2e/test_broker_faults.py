"""Broker faults the saga must survive (issue 9), on a RabbitMQ node of the module's own.

The module starts a private node (tests/support/rabbit_node.py) with a consumer timeout of
``CONSUMER_TIMEOUT_MS`` checked every second, and all six services connected to it through a
cuttable TCP proxy (tests/support/tcp_proxy.py); the tests and their ledger talk to the node
directly. Every test uses its own customers and SKUs:

- a handler never holds a delivery past the broker's consumer timeout (long waits are states and
  timers, not unacked messages), while a consumer that does hold one is closed by that broker;
- the connection dropped between publish and confirm: the relay republishes, consumers
  deduplicate, one invoice and one shipment per order;
- the broker restarted mid-run (``stop_app`` / ``start_app``): every service reconnects within
  30 s, orders placed while it was down go out from the outbox, nothing confirmed is lost
  (a Jepsen-style count of confirmed markers against what a durable queue received), and every
  order completes with exactly one invoice and one shipment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aio_pika
import pytest

from shared.bus import Names
from shared.bus.access import bus_user
from shared.registry import SERVICES
from tests.support import rabbit_node
from tests.support.api import Shop
from tests.support.barriers import eventually, handled_counts, handled_for_orders, is_parking
from tests.support.consumers import consumed_types
from tests.support.rabbit_node import BusLedger, delivery_timeouts
from tests.support.stack import OwnStack, Stack, own_stack

pytestmark = pytest.mark.e2e

CONSUMER_TIMEOUT_MS = 5000
RECONNECT_WITHIN_S = 30  # issue 9: every service is back by itself within 30 s
CONSUMERS = {s: consumed_types(s) for s in SERVICES if consumed_types(s)}


@pytest.fixture(scope="module")
def faults(mongo_url: str) -> Iterator[OwnStack]:
    # scripts/bootstrap.sh installs RabbitMQ and its user on every machine that runs the suite: a
    # machine that cannot start a private node fails here, saying why, instead of skipping.
    why_not = rabbit_node.available()
    if why_not is not None:
        pytest.fail(f"cannot start a private RabbitMQ node for the broker fault tests: {why_not}")
    with own_stack(
        "broker-faults",
        private_broker=True,
        consumer_timeout_ms=CONSUMER_TIMEOUT_MS,
        proxy=True,
        mongo_url=mongo_url,
    ) as own:
        yield own


@pytest.fixture
def stack(faults: OwnStack) -> Stack:
    assert faults.stack is not None
    return faults.stack


@pytest.fixture
async def shop(stack: Stack) -> AsyncIterator[Shop]:
    async with Shop(stack) as shop:
        yield shop


@pytest.fixture
async def ledger(faults: OwnStack, stack: Stack) -> AsyncIterator[BusLedger]:
    ledger = await BusLedger(faults.amqp_url, stack.prefix).start()
    yield ledger
    await ledger.close()


# --- helpers -------------------------------------------------------------------------------------


async def ready(stack: Stack) -> dict[str, int]:
    """Each service's /ready status code (0: no answer)."""
    return await stack.ready_codes(SERVICES)


async def not_ready(stack: Stack) -> bool:
    """Every service answers /ready with 503 and the broker check false."""
    codes = await ready(stack)
    return all(code == 503 for code in codes.values())


async def reconnected(faults: OwnStack, stack: Stack) -> bool:
    """Every service answers /ready, has its connection on the node as its own user, and every
    consuming service has its consumer back on its queue."""
    assert faults.node is not None
    if any(code != 200 for code in (await ready(stack)).values()):
        return False
    users = set(await asyncio.to_thread(faults.node.connections))
    if not {bus_user(s) for s in SERVICES} <= users:
        return False
    consumers = await asyncio.to_thread(faults.node.consumers)
    return all(consumers.get(Names(stack.prefix, s).queue, 0) >= 1 for s in CONSUMERS)


async def place_many(shop: Shop, customer: str, sku: str, count: int) -> list[str]:
    placed = await asyncio.gather(*(shop.place(customer, [(sku, 1)]) for _ in range(count)))
    return [o["order_id"] for o in placed]


async def routed_for_others(ledger: BusLedger, known: list[str], at_least: int) -> bool:
    """At least ``at_least`` orders not in ``known`` have a message routed by the broker."""
    await ledger.drain()
    return len({order for _, order in ledger.envelopes.values()} - set(known)) >= at_least


async def settle(stack: Stack, ledger: BusLedger, within: float = 60) -> list[tuple[str, str, str]]:
    """Drain the ledger until every message it received was handled by its consumers (or the
    deadline); returns what is still unhandled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await ledger.drain()
        missing = ledger.unhandled(lambda s: handled_counts(stack, s), CONSUMERS)
        if not missing or loop.time() > deadline:
            return missing
        await asyncio.sleep(0.2)


def parked_lines(stack: Stack, order_ids: list[str]) -> list[tuple[str, Any, Any]]:
    wanted = set(order_ids)
    return [
        (name, line.get("type"), line.get("error"))
        for name in stack.procs
        for line in stack.log_lines(name)
        if is_parking(line) and line.get("order_id") in wanted
    ]


async def exactly_once(shop: Shop, order_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Orders whose billing and logistics do not hold exactly one invoice and one shipment."""
    wrong = {}
    for order_id in order_ids:
        invoices = [i for i in await shop.invoices(order_id) if i.get("kind", "invoice") == "invoice"]
        shipments = await shop.shipments(order_id)
        if (len(invoices), len(shipments)) != (1, 1):
            wrong[order_id] = (len(invoices), len(shipments))
    return wrong


def timeouts_logged(faults: OwnStack, stack: Stack) -> dict[str, list[str]]:
    assert faults.node is not None
    found = {"broker": delivery_timeouts(faults.node.log_text())}
    for name, proc in stack.procs.items():
        text = proc.log_path.read_text(errors="replace")
        refused = [line for line in text.splitlines() if "PRECONDITION_FAILED" in line]
        found[name] = delivery_timeouts(text) + refused
    return found


async def hold_a_delivery(url: str, queue_name: str) -> str:
    """A consumer that never acks its delivery; returns the broker's reason when it closes the
    channel (the positive control: this node does enforce its consumer timeout)."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        await channel.default_exchange.publish(aio_pika.Message(b"held"), routing_key=queue_name)
        closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_close(_: object, exc: BaseException | None = None) -> None:
            if not closed.done():
                closed.set_result(repr(exc))

        channel.close_callbacks.add(on_close)

        async def keep(message: object) -> None:  # no ack, ever
            return None

        await queue.consume(keep)
        return await asyncio.wait_for(closed, timeout=CONSUMER_TIMEOUT_MS / 1000 + 20)
    finally:
        cleanup = await connection.channel()
        await cleanup.queue_delete(queue_name)
        await connection.close()


# --- tests ---------------------------------------------------------------------------------------


async def test_no_handler_holds_a_delivery_past_the_consumer_timeout(
    faults: OwnStack, stack: Stack, shop: Shop
) -> None:
    customer = await shop.customer()
    in_stock = await shop.product(on_hand=5)
    short = await shop.product(on_hand=0, sourcing="buy")  # this order waits for the supplier
    plain = (await shop.place(customer, [(in_stock, 1)]))["order_id"]
    waiting = (await shop.place(customer, [(short, 2)]))["order_id"]
    try:
        await shop.wait_status(waiting, "awaiting_stock")
        supply = await shop.wait_supply_orders(waiting)

        # While the order waits, the broker's timeout passes: a consumer that holds a delivery is
        # closed for it, so the timeout is live on this node and the wait outlasted it.
        reason = await hold_a_delivery(faults.amqp_url, f"{stack.prefix}.control")
        assert "delivery acknowledgement" in reason and str(CONSUMER_TIMEOUT_MS) in reason
        assert (await shop.order(waiting))["status"] == "awaiting_stock"

        await shop.complete_supply(supply[0]["supply_order_id"])
        done = await asyncio.gather(shop.deliver(plain), shop.deliver(waiting))
    except AssertionError as exc:  # say whether a held delivery is why
        closed = timeouts_logged(faults, stack)
        raise AssertionError(f"{exc}; closed by the consumer timeout: {closed}") from exc

    assert [o["status"] for o in done] == ["completed", "completed"]
    assert await exactly_once(shop, [plain, waiting]) == {}
    found = timeouts_logged(faults, stack)
    assert len(found.pop("broker")) == 1, "only the control consumer's channel was closed"
    assert found == {name: [] for name in stack.procs}
    assert await reconnected(faults, stack)  # every service's channel is still the one it opened


async def test_connection_dropped_between_publish_and_confirm_relay_republishes_consumers_dedupe(
    faults: OwnStack, stack: Stack, shop: Shop, ledger: BusLedger
) -> None:
    assert faults.proxy is not None and faults.node is not None
    customer = await shop.customer(credit_limit=100_000_000)
    sku = await shop.product(on_hand=50)
    first = await place_many(shop, customer, sku, 6)
    await eventually(lambda: handled_for_orders(stack, "inventory", first), what="the saga at work",
                     interval=0.02)  # fmt: skip
    await ledger.drain()
    known = first + [order for _, order in ledger.envelopes.values()]

    # Hold: what the services publish reaches the broker and is routed, its confirm never comes.
    # Four orders placed now: intake's door publishes each one's first message and waits.
    faults.proxy.hold()
    try:
        held = [asyncio.create_task(shop.place(customer, [(sku, 1)])) for _ in range(4)]
        await eventually(lambda: routed_for_others(ledger, known, 4), within=20,
                         what="the new orders' publishes routed while their confirms are held")  # fmt: skip
        cut = faults.proxy.cut(refuse_s=1.0)  # ... and the connection drops before any confirm
    finally:
        faults.proxy.restore()  # whatever happened, the next test gets a working link
    second = [(await task)["order_id"] for task in held]  # the door answers: the outbox has them
    ids = first + second

    await eventually(lambda: reconnected(faults, stack), within=RECONNECT_WITHIN_S, what="reconnect",
                     interval=1.0)  # fmt: skip
    done = await asyncio.gather(*(shop.deliver(o) for o in ids))
    missing = await settle(stack, ledger)

    assert cut >= len(SERVICES)
    assert [o["status"] for o in done] == ["completed"] * len(ids)
    assert missing == [], f"routed to a service but never handled: {missing[:10]}"
    # Published, routed, unconfirmed: the relay sent them again under their ids, and the
    # consumers took the copies as duplicates.
    assert ledger.republished(), "the relay republished nothing that had been routed without a confirm"
    assert await exactly_once(shop, ids) == {}
    assert parked_lines(stack, ids) == []
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"]) == (50 - len(ids), 0)


async def test_broker_restarted_mid_run_every_service_reconnects_and_nothing_confirmed_is_lost(
    faults: OwnStack, stack: Stack, shop: Shop, ledger: BusLedger
) -> None:
    node = faults.node
    assert node is not None
    customer = await shop.customer(credit_limit=100_000_000)
    sku = await shop.product(on_hand=100)
    before = await place_many(shop, customer, sku, 10)
    await eventually(lambda: handled_for_orders(stack, "inventory", before), what="the saga at work",
                     interval=0.02)  # fmt: skip
    stop = asyncio.Event()
    markers = asyncio.create_task(ledger.markers(stop))
    await eventually(lambda: len(ledger.confirmed) >= 20, what="markers confirmed before the fault")

    await asyncio.to_thread(node.stop_app)  # every connection closed; queues stay on disk
    down_at = time.monotonic()
    try:
        await eventually(lambda: not_ready(stack), within=15, what="services not ready without a broker")
        # While the broker is away the door still takes orders: their messages wait in the outbox.
        during = await place_many(shop, customer, sku, 5)
    finally:
        await asyncio.to_thread(node.start_app)  # also when the test failed: the rest needs a broker
    back_at = time.monotonic()
    await eventually(lambda: reconnected(faults, stack), within=RECONNECT_WITHIN_S, what="every service back",
                     interval=1.0)  # fmt: skip
    reconnect_s = time.monotonic() - back_at
    confirmed_at_restart = len(ledger.confirmed)
    await eventually(lambda: len(ledger.confirmed) >= confirmed_at_restart + 20, what="markers after it")
    stop.set()
    await markers

    ids = before + during
    done = await asyncio.gather(*(shop.deliver(o) for o in ids))
    missing = await settle(stack, ledger)
    counts = ledger.marker_counts()
    print(f"broker down {back_at - down_at:.1f} s, services back {reconnect_s:.1f} s later; "
          f"markers {counts}; service messages {len(ledger.envelopes)}, "
          f"received twice {len(ledger.republished())}")  # fmt: skip

    assert reconnect_s <= RECONNECT_WITHIN_S
    assert counts["lost"] == 0, f"confirmed by the broker, never received: {counts}"
    assert counts["unconfirmed"] >= 1, "no publish met the outage: the fault was not exercised"
    assert missing == [], f"routed to a service but never handled: {missing[:10]}"
    assert [o["status"] for o in done] == ["completed"] * len(ids)
    assert await exactly_once(shop, ids) == {}
    assert parked_lines(stack, ids) == []
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"]) == (100 - len(ids), 0)
