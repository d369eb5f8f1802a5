"""A test-only shuffler in front of one service's queue: it holds the events the service consumes
and hands them on in random order, some of them twice (issue 9, reordering end to end).

How replies reach intake (shared/bus/topology.py): every service publishes an event to the
stack's topic exchange ``P.bus`` under ``evt.<producer>.<Type>``, and intake's durable quorum
queue ``P.intake`` is bound to the exact key of every event its ``CONSUMES`` table names. The
shuffler, connected as the operator (``AMQP_URL``, guest locally), takes those keys over:

1. it declares a queue of its own (exclusive) and binds it to every event key the service
   consumes, then unbinds the same keys from the service's queue (in that order, so an event
   routed in between reaches both: a duplicate, never a loss). Commands addressed to the service
   (``cmd.intake.*``: parking reports, its own timers) stay bound as they were;
2. it consumes with manual acks and holds every delivery for a random time, uniform in
   ``[0, max_hold_s]`` (``random.Random(seed)``), so whatever arrives within that window of
   another message comes out in random order; when more than ``max_held`` copies wait, the one due
   first goes at once. Nothing waits longer than ``max_hold_s``;
3. with probability ``duplicate_rate`` a delivery is handed on twice, each copy at its own random
   time (the copy may overtake the original): the at-least-once delivery the services must absorb;
4. it republishes each copy straight to the service's queue (default exchange, routing key the
   queue name, mandatory, with the broker's confirm) and acks the delivery once every copy of it
   is confirmed. The body and every property and header (message id, type, correlation id, app
   id, timestamp, ``traceparent`` ...) are kept, with one exception:

``user_id``. RabbitMQ refuses a publish whose ``user_id`` is not the connection's user unless
that user has the ``impersonator`` tag, which no account here has (and giving one to the tests
would change the broker for every other run). So the copy names the operator, whom every consumer
trusts (``BUS_TRUSTED_SENDERS``, shared/bus/access.py), exactly as the probes and a person
replaying a parked message do. The service's sender check therefore does not see the original
sender; the shuffler checks it in its place: every delivery's ``user_id`` must be the bus user of
a service that may send that type (shared/bus/traffic.py), and anything else is listed in
``foreign`` for the test to fail on (and still handed on, so the failure is the assertion, not a
hang). ``x-sender`` is not set: a service believes it only on copies its own user published.

The services under test are the real processes, unchanged; only the broker's bindings move.
``stop`` binds the keys back to the service's queue first, then lets go of everything held.
If the service restarts (its topology is declared again, bindings included) call ``reroute``.

What was handed on in which order is recorded (``arrivals``, ``releases``) so that a test can
show the reordering really happened: ``inversions(same_order=True)`` counts the pairs of messages
of one order delivered in the opposite order from their arrival at the shuffler.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.bus import Names
from shared.bus.access import bus_user, url_user
from shared.bus.traffic import senders
from tests.support.consumers import recorded_subscriptions


def consumed_event_keys(service: str) -> list[str]:
    """The routing keys of the events ``service``'s queue is bound to (its replies)."""
    keys = {t.routing_key() for t in recorded_subscriptions(service)}
    return sorted(k for k in keys if k.startswith("evt."))


@dataclass(frozen=True)
class Seen:
    """One delivery as the shuffler received it (``seq``: arrival number) or one copy it handed on
    (``copy`` 0 the original, 1 the duplicate)."""

    seq: int
    message_id: str
    type: str
    order_id: str
    sender: str
    copy: int = 0
    held_s: float = 0.0


@dataclass
class _Held:
    delivery: AbstractIncomingMessage
    seen: Seen
    copies: int
    copies_left: int
    arrived: float


@dataclass
class Shuffler:
    """Holds and shuffles the events ``service`` consumes on the stack ``prefix`` (module doc)."""

    amqp_url: str
    prefix: str
    service: str = "intake"
    seed: int = 0
    max_hold_s: float = 0.8
    max_held: int = 200
    duplicate_rate: float = 0.1
    arrivals: list[Seen] = field(default_factory=list)
    releases: list[Seen] = field(default_factory=list)
    foreign: list[Seen] = field(default_factory=list)  # senders that may not send the type
    most_held: int = 0  # the most copies held at once

    def __post_init__(self) -> None:
        self.names = Names(self.prefix, self.service)
        self.keys = consumed_event_keys(self.service)
        self.user = url_user(self.amqp_url)
        self._rng = random.Random(self.seed)
        self._heap: list[tuple[float, int, _Held]] = []
        self._tiebreak = itertools.count()
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._draining = False
        self._allowed = {
            name: frozenset(bus_user(s) for s in services) for name, services in senders().items()
        }
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._releaser: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    # --- life cycle ------------------------------------------------------------------------------

    async def start(self) -> Shuffler:
        self._connection = await aio_pika.connect(self.amqp_url)
        self._consume_channel = await self._connection.channel()
        await self._consume_channel.set_qos(prefetch_count=0)  # what is held is bounded by max_held
        self._publish_channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await self._consume_channel.get_exchange(self.names.exchange)
        self._queue = await self._consume_channel.declare_queue(
            f"{self.names.queue}.shuffler-{uuid.uuid4().hex[:6]}", exclusive=True, auto_delete=True
        )
        for key in self.keys:
            await self._queue.bind(self._exchange, routing_key=key)
        await self.reroute()
        self._releaser = asyncio.create_task(self._release_loop())
        self._consumer_tag = await self._queue.consume(self._on_delivery)
        return self

    async def reroute(self) -> None:
        """Unbind the event keys from the service's queue (again, after the service restarted)."""
        target = await self._consume_channel.get_queue(self.names.queue, ensure=False)
        for key in self.keys:
            await target.unbind(self._exchange, routing_key=key)

    async def stop(self, within: float = 30) -> None:
        """Give the keys back to the service's queue, hand on everything held, close."""
        if self._connection is None:
            return
        try:
            target = await self._consume_channel.get_queue(self.names.queue, ensure=False)
            for key in self.keys:  # bound back first: an event routed meanwhile reaches both
                await target.bind(self._exchange, routing_key=key)
            for key in self.keys:
                await self._queue.unbind(self._exchange, routing_key=key)
            self._draining = True
            self._wake.set()
            deadline = time.monotonic() + within
            while self._heap or (await self._consume_channel.declare_queue(
                self._queue.name, passive=True
            )).declaration_result.message_count:  # fmt: skip
                if time.monotonic() > deadline or self._failure is not None:
                    break
                await asyncio.sleep(0.05)
        finally:
            if self._releaser is not None:
                self._releaser.cancel()
                await asyncio.gather(self._releaser, return_exceptions=True)
            await self._connection.close()
            self._connection = None

    async def __aenter__(self) -> Shuffler:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what it does ----------------------------------------------------------------------------

    @property
    def held(self) -> int:
        """Copies waiting to be handed on."""
        return len(self._heap)

    def check(self) -> None:
        """Raise what stopped the shuffler, if anything did (a refused republish ...)."""
        if self._failure is not None:
            raise AssertionError(f"the shuffler stopped: {self._failure!r}") from self._failure

    async def _on_delivery(self, delivery: AbstractIncomingMessage) -> None:
        sender = delivery.user_id or ""
        seen = Seen(
            seq=next(self._seq), message_id=delivery.message_id or "", type=delivery.type or "",
            order_id=delivery.correlation_id or "", sender=sender,
        )  # fmt: skip
        self.arrivals.append(seen)
        if sender not in self._allowed.get(seen.type, frozenset()):
            self.foreign.append(seen)
        copies = 2 if self._rng.random() < self.duplicate_rate else 1
        now = time.monotonic()
        held = _Held(delivery, seen, copies, copies, now)
        for _ in range(copies):
            due = now if self._draining else now + self._rng.uniform(0, self.max_hold_s)
            heapq.heappush(self._heap, (due, next(self._tiebreak), held))
        self.most_held = max(self.most_held, len(self._heap))
        self._wake.set()

    async def _release_loop(self) -> None:
        try:
            while True:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][0] <= now or self._draining or len(self._heap) > self.max_held
                ):
                    _, _, held = heapq.heappop(self._heap)
                    await self._hand_on(held)
                    now = time.monotonic()
                self._wake.clear()
                timeout = self._heap[0][0] - now if self._heap else None
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    pass
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced by check() and the test's assertions
            self._failure = exc

    async def _hand_on(self, held: _Held) -> None:
        d = held.delivery
        copy = aio_pika.Message(
            d.body,
            headers=dict(d.headers or {}),
            content_type=d.content_type,
            content_encoding=d.content_encoding,
            delivery_mode=d.delivery_mode or aio_pika.DeliveryMode.PERSISTENT,
            priority=d.priority,
            correlation_id=d.correlation_id,
            reply_to=d.reply_to,
            message_id=d.message_id,
            timestamp=d.timestamp,
            type=d.type,
            app_id=d.app_id,
            user_id=self.user,  # the broker allows no other (module docstring)
        )
        await self._publish_channel.default_exchange.publish(
            copy, routing_key=self.names.queue, mandatory=True
        )
        number = held.copies - held.copies_left  # 0 for the first copy out, 1 for the second
        held.copies_left -= 1
        self.releases.append(replace(held.seen, copy=number, held_s=time.monotonic() - held.arrived))
        if held.copies_left == 0:
            await d.ack()

    # --- what a test asks ------------------------------------------------------------------------

    def duplicated(self) -> int:
        """How many deliveries were handed on twice."""
        return sum(1 for r in self.releases if r.copy == 1)

    def inversions(self, same_order: bool = True, order_ids: Iterable[str] | None = None) -> int:
        """Pairs handed on in the opposite order from their arrival (first copies only): within
        one order's messages (``same_order``), or across all of them."""
        if same_order:
            return sum(self.overtaken(order_ids).values())
        wanted = None if order_ids is None else set(order_ids)
        return _inversions(
            [r.seq for r in self.releases if r.copy == 0 and (wanted is None or r.order_id in wanted)]
        )

    def overtaken(self, order_ids: Iterable[str] | None = None) -> Counter[tuple[str, str]]:
        """For the messages of one order: (type handed on first, type that had arrived first) ->
        how many such inverted pairs, over every order (or those of ``order_ids``)."""
        per_order = self.overtaken_per_order()
        wanted = per_order.keys() if order_ids is None else set(order_ids)
        return sum((per_order.get(o, Counter()) for o in wanted), Counter())

    def overtaken_per_order(self) -> dict[str, Counter[tuple[str, str]]]:
        """``overtaken`` for each order id."""
        groups: dict[str, list[Seen]] = {}
        for r in self.releases:
            if r.copy == 0:
                groups.setdefault(r.order_id, []).append(r)
        found: dict[str, Counter[tuple[str, str]]] = {}
        for order_id, group in groups.items():
            pairs = found[order_id] = Counter()
            for i, later in enumerate(group):  # handed on after every earlier entry of the group
                for earlier in group[:i]:
                    if earlier.seq > later.seq:  # ... though it had arrived after it
                        pairs[earlier.type, later.type] += 1
        return found

    def copies_of(self) -> Counter[str]:
        """Message id -> copies handed on (a duplicate publish by a service counts as its own)."""
        return Counter(r.message_id for r in self.releases)


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (merge sort, n log n)."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = sorted(values[:middle]), sorted(values[middle:])
    count = _inversions(values[:middle]) + _inversions(values[middle:])
    j = 0
    for value in left:  # for each left value, how many right values are smaller
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    return count
