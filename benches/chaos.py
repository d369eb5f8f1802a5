"""``make chaos``: orders through the whole saga while every service, the store and the broker fail
(issue 9), then a check of everything the run left behind.

Starts a stack of its own (``tests.support.stack.own_stack``): a private RabbitMQ node
(tests/support/rabbit_node.py), so the broker can be restarted without touching anything else,
its own embedded store (unless ``MONGO_URL`` is set; then the store restart is skipped), fresh
prefixes and ports. It places ``CHAOS_ORDERS`` orders (a few SKUs short, so some wait for a
supplier; ``CHAOS_CANCEL_PERCENT`` of them cancelled as soon as they are placed) and drives each
one as the company would: the warehouse completes its supply orders, the carrier reports
``picked_up`` and ``delivered``. The orders go in chunks; after each chunk one fault, in a random
(``CHAOS_SEED``) order: ``CHAOS_KILLS`` SIGKILLs of services (every service at least once when
there are six or more; each restarted after a moment), one store restart (SIGKILL, start again
on the same data) and one broker restart (``rabbitmqctl stop_app`` / ``start_app``). After each
fault every service must answer ``/ready`` again within 30 s. A ledger (a durable queue bound to
the exchange, and numbered markers published with confirms across the broker restart) counts
what the broker kept.

When every order is final, or ``CHAOS_DEADLINE_S`` has passed, it checks and prints: faults
injected and recovered from, orders by final state, stuck orders, the stock ledger per SKU
(on hand = initial + received + restocked - shipped, nothing left reserved), credit exposure per
customer (= what its completed orders invoiced), invoices and shipments per order (exactly one
each for a completed order, no invoice for a cancelled one), parked messages, confirmed markers
lost, messages routed but never handled, and the HTTP answers during the faults (no 500, every
503 with the error body, no request hanging). Last line: ``N passed, M failed`` (checks); exit
status 1 when a check failed.

    make chaos                                        # 300 orders, 12 kills
    CHAOS_PROFILE=short make chaos                    # the CI profile: 40 orders, 6 kills
    CHAOS_ORDERS=100 CHAOS_KILLS=6 CHAOS_SEED=7 .venv/bin/python -m benches.chaos

Settings (environment): ``CHAOS_PROFILE`` (``default`` | ``short``), ``CHAOS_ORDERS``,
``CHAOS_KILLS``, ``CHAOS_SEED`` (default: a random one, printed), ``CHAOS_CONCURRENCY``,
``CHAOS_CUSTOMERS``, ``CHAOS_CANCEL_PERCENT`` (10), ``CHAOS_DEADLINE_S``. Figures go to
``.bench/chaos.json``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benches import messages
from benches.saga_throughput import progress
from shared.bus import Names
from shared.bus.access import bus_user
from shared.registry import SERVICES
from tests.support.api import Shop
from tests.support.consumers import consumed_types
from tests.support.rabbit_node import BusLedger
from tests.support.stack import OwnStack, Stack, own_stack

FINAL = frozenset({"completed", "cancelled", "rejected", "returned", "partially_returned"})
BACK_WITHIN_S = 30.0  # issue 9: every service is ready again by itself within 30 s
HTTP_TIMEOUT_S = 20.0  # a request longer than this hangs (the door must answer 503 instead)
POLL_S = 0.5
PROFILES: dict[str, dict[str, float]] = {
    "default": {"orders": 300, "kills": 12, "concurrency": 20, "customers": 10, "deadline_s": 900},
    "short": {"orders": 40, "kills": 6, "concurrency": 10, "customers": 5, "deadline_s": 300},
}
CONSUMERS = {s: consumed_types(s) for s in SERVICES if consumed_types(s)}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Settings:
    profile: str
    orders: int
    kills: int
    seed: int
    concurrency: int
    customers: int
    cancel_percent: float
    deadline_s: float

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        profile = env.get("CHAOS_PROFILE", "default") or "default"
        if profile not in PROFILES:
            raise SystemExit(f"CHAOS_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}")
        base = PROFILES[profile]

        def number(name: str, default: float) -> float:
            return float(env.get(f"CHAOS_{name.upper()}") or default)

        return cls(
            profile=profile,
            orders=int(number("orders", base["orders"])),
            kills=int(number("kills", base["kills"])),
            seed=int(env.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**6)),
            concurrency=int(number("concurrency", base["concurrency"])),
            customers=int(number("customers", base["customers"])),
            cancel_percent=number("cancel_percent", 10),
            deadline_s=number("deadline_s", base["deadline_s"]),
        )


# --- talking to the stack through its faults -----------------------------------------------------


@dataclass
class Answers:
    """Every HTTP answer the run got: what a door must never do is counted here."""

    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)  # refused, reset: a process away
    timeouts: int = 0
    bad_503: list[str] = field(default_factory=list)  # a 503 without the error body
    server_errors: list[str] = field(default_factory=list)  # 500 and other non-503 5xx


class Door:
    """Calls a service with a role's key, retrying while it (or what it needs) is away."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.answers = Answers()
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}

    def client(self, service: str, role: str) -> httpx.AsyncClient:
        if (service, role) not in self._clients:
            headers = {"Authorization": f"Bearer {self.stack.key(role)}"}
            self._clients[service, role] = httpx.AsyncClient(
                base_url=self.stack.url(service), timeout=HTTP_TIMEOUT_S, headers=headers
            )
        return self._clients[service, role]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self, service: str, role: str, method: str, path: str, *, until: float, **kwargs: Any
    ) -> httpx.Response | None:
        """The first answer below 500 (and not 429), or None when ``until`` (monotonic) passes."""
        attempt = 0
        while time.monotonic() < until:
            attempt += 1
            wait = min(0.2 * attempt, 2.0)
            try:
                response = await self.client(service, role).request(method, path, **kwargs)
            except httpx.TimeoutException:
                self.answers.timeouts += 1
            except httpx.TransportError as exc:
                self.answers.transport_errors[type(exc).__name__] += 1
            else:
                code = response.status_code
                self.answers.statuses[code] += 1
                if code < 500 and code != 429:
                    return response
                where = f"{method} {service}{path}: {code} {response.text[:200]}"
                if code == 503:
                    if not _has_error_body(response):
                        self.answers.bad_503.append(where)
                    wait = min(float(response.headers.get("Retry-After") or wait), 2.0)
                elif code >= 500:
                    self.answers.server_errors.append(where)
            await asyncio.sleep(wait)
        return None


def _has_error_body(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]


# --- the orders ----------------------------------------------------------------------------------


@dataclass
class Order:
    index: int
    customer: str
    sku: str
    quantity: int
    cancel: bool
    key: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex}")
    order_id: str | None = None
    status: str | None = None
    stuck: Any = None
    cancel_accepted: bool | None = None
    placed_at: float | None = None


class Driver:
    """Each order placed, then moved on as the warehouse and the carrier would, until it is final."""

    def __init__(self, shop: Shop, door: Door, concurrency: int, deadline: float) -> None:
        self.shop, self.door, self.deadline = shop, door, deadline
        self.gate = asyncio.Semaphore(concurrency)
        self.placed = 0
        self.final = 0

    async def drive(self, order: Order, total: int) -> None:
        # Placing takes no turn: orders keep arriving whatever the saga is doing (a broker or
        # store outage included); moving them on does, so polling stays bounded.
        await self._place(order)
        if order.order_id is None:
            return
        if order.cancel:
            await self._cancel(order)
        async with self.gate:
            while time.monotonic() < self.deadline:
                response = await self.door.call("intake", "ops", "GET", f"/orders/{order.order_id}",
                                                until=self.deadline)  # fmt: skip
                if response is None or response.status_code != 200:
                    break
                body = response.json()
                order.status, order.stuck = body["status"], body.get("stuck")
                if order.status in FINAL:
                    self.final += 1
                    progress("orders final", self.final, total)
                    return
                if not (order.cancel and order.cancel_accepted):
                    await self._move_on(order)
                await asyncio.sleep(POLL_S)

    async def _place(self, order: Order) -> None:
        body = self.shop.order_body(order.customer, [(order.sku, order.quantity)])
        headers = {"Idempotency-Key": order.key}  # a retry after a lost answer is the same order
        response = await self.door.call("intake", "storefront", "POST", "/orders", json=body, headers=headers,
                                        until=self.deadline)  # fmt: skip
        if response is not None and response.status_code < 300:
            order.order_id = response.json()["order_id"]
            order.placed_at = time.monotonic()
            self.placed += 1
        else:
            order.status = f"not placed ({response.status_code if response is not None else 'no answer'})"

    async def _cancel(self, order: Order) -> None:
        response = await self.door.call("intake", "storefront", "POST", f"/orders/{order.order_id}/cancel",
                                        json={"reason": "chaos: the customer changed their mind"},
                                        until=self.deadline)  # fmt: skip
        order.cancel_accepted = response is not None and response.status_code == 202

    async def _move_on(self, order: Order) -> None:
        """What the warehouse or the carrier does next for an order in this status."""
        order_id = order.order_id
        if order.status == "awaiting_stock":
            response = await self.door.call("fulfillment", "warehouse", "GET", "/supply-orders",
                                            params={"order_id": order_id}, until=self.deadline)  # fmt: skip
            for supply in response.json() if response is not None and response.status_code == 200 else []:
                if supply["status"] == "open":
                    await self.door.call("fulfillment", "warehouse", "POST",
                                         f"/supply-orders/{supply['supply_order_id']}/complete",
                                         until=self.deadline)  # fmt: skip
        elif order.status in ("ready_to_ship", "shipped", "delivered"):
            response = await self.door.call("logistics", "carrier", "GET", "/shipments",
                                            params={"order_id": order_id}, until=self.deadline)  # fmt: skip
            shipments = response.json() if response is not None and response.status_code == 200 else []
            for shipment in shipments:
                event = {"booked": "picked_up", "dispatched": "delivered", "in_transit": "delivered"}.get(
                    shipment["status"]
                )
                if event:
                    await self.door.call("logistics", "carrier", "POST",
                                         f"/shipments/{shipment['shipment_id']}/events",
                                         json={"type": event}, until=self.deadline)  # fmt: skip


# --- the faults ----------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # kill | store | broker
    target: str
    down_s: float
    done: bool = False
    back_s: float | None = None  # from the end of the outage until every service was ready
    error: str = ""


def plan(rng: random.Random, kills: int, store: bool) -> list[Fault]:
    """``kills`` service kills (every service before any twice), a store and a broker restart,
    in a random order."""
    victims: list[str] = []
    while len(victims) < kills:
        victims.extend(rng.sample(list(SERVICES), len(SERVICES)))
    faults = [Fault("kill", name, round(rng.uniform(0.5, 2.0), 1)) for name in victims[:kills]]
    faults.append(Fault("broker", "rabbitmq", round(rng.uniform(1.0, 3.0), 1)))
    if store:
        faults.append(Fault("store", "nx-27017", round(rng.uniform(1.0, 3.0), 1)))
    rng.shuffle(faults)
    return faults


async def ready_codes(stack: Stack) -> dict[str, int]:
    return await stack.ready_codes()


async def all_back(own: OwnStack, stack: Stack, within_s: float, on_broker: bool = False) -> float | None:
    """Seconds until every service answers /ready (and, after a broker restart, has its connection
    and its consumer on the node again); None when that took longer than ``within_s``."""
    began = time.monotonic()
    while time.monotonic() - began <= within_s:
        if all(code == 200 for code in (await ready_codes(stack)).values()):
            if not on_broker or await _on_the_node(own, stack):
                return time.monotonic() - began
        await asyncio.sleep(0.5)
    return None


async def _on_the_node(own: OwnStack, stack: Stack) -> bool:
    assert own.node is not None
    users = set(await asyncio.to_thread(own.node.connections))
    consumers = await asyncio.to_thread(own.node.consumers)
    return {bus_user(s) for s in SERVICES} <= users and all(
        consumers.get(Names(stack.prefix, s).queue, 0) >= 1 for s in CONSUMERS
    )


async def inject(own: OwnStack, stack: Stack, fault: Fault) -> None:
    node = own.node
    assert node is not None
    began = time.monotonic()
    try:
        if fault.kind == "kill":
            stack.kill(fault.target)  # SIGKILL: unacked deliveries come back, the relay republishes
            await asyncio.sleep(fault.down_s)  # the outage's length, not a wait for anything
            await asyncio.to_thread(stack.restart, fault.target)
        elif fault.kind == "store":
            own.kill_store()
            await asyncio.sleep(fault.down_s)
            await asyncio.to_thread(own.start_store)
        else:
            await asyncio.to_thread(node.stop_app)
            await asyncio.sleep(fault.down_s)
            await asyncio.to_thread(node.start_app)
        fault.back_s = await all_back(own, stack, BACK_WITHIN_S, on_broker=fault.kind == "broker")
        fault.done = True
    except Exception as exc:  # a fault that could not be injected or undone fails its check
        fault.error = f"{type(exc).__name__}: {exc}"[:500]
    back = f"back after {fault.back_s:.1f} s" if fault.back_s is not None else "NOT back within 30 s"
    log(f"fault {fault.kind} {fault.target} (down {fault.down_s} s, {time.monotonic() - began:.1f} s "
        f"in all): {fault.error or back}")  # fmt: skip


# --- what the run left behind --------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


async def read_back(door: Door, orders: list[Order], until: float) -> dict[str, Any]:
    """Invoices, shipments and supply orders of every order; stock of every SKU; every customer's
    exposure; the orders marked stuck."""
    gate = asyncio.Semaphore(10)
    out: dict[str, Any] = {"invoices": {}, "shipments": {}, "supply": {}}

    async def listing(service: str, path: str, order_id: str) -> list[dict[str, Any]]:
        async with gate:
            params = {"order_id": order_id}
            response = await door.call(service, "ops", "GET", path, params=params, until=until)
        return response.json() if response is not None and response.status_code == 200 else []

    async def one(order: Order) -> None:
        assert order.order_id is not None
        oid = order.order_id
        out["invoices"][oid] = await listing("billing", "/invoices", oid)
        out["shipments"][oid] = await listing("logistics", "/shipments", oid)
        out["supply"][oid] = await listing("fulfillment", "/supply-orders", oid)

    await asyncio.gather(*(one(o) for o in orders if o.order_id))
    out["stock"] = {}
    for sku in sorted({o.sku for o in orders}):
        response = await door.call("inventory", "ops", "GET", f"/stock/{sku}", until=until)
        out["stock"][sku] = response.json() if response is not None and response.status_code == 200 else {}
    out["exposure"] = {}
    for customer in sorted({o.customer for o in orders}):
        response = await door.call("billing", "ops", "GET", f"/customers/{customer}", until=until)
        body = response.json() if response is not None and response.status_code == 200 else {}
        out["exposure"][customer] = body.get("exposure")
    return out


def _names(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def evaluate(
    settings: Settings,
    orders: list[Order],
    faults: list[Fault],
    initial: dict[str, int],
    seen: dict[str, Any],
    parked: dict[str, int],
    ledger: BusLedger,
    unhandled: list[tuple[str, str, str]],
    answers: Answers,
    store_restartable: bool,
) -> tuple[list[Check], list[str]]:
    """The checks, and the lines of the report printed above them."""
    checks: list[Check] = []
    lines: list[str] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append(Check(name, ok, detail))

    # Faults.
    kills = [f for f in faults if f.kind == "kill"]
    killed = Counter(f.target for f in kills if f.done)
    expected = set(SERVICES) if settings.kills >= len(SERVICES) else {f.target for f in kills}
    lines.append("faults: " + "; ".join(
        f"{f.kind} {f.target} {f.down_s} s -> " + (f"back {f.back_s:.1f} s" if f.back_s is not None else
                                                  f"not back ({f.error or 'over 30 s'})")
        for f in faults))  # fmt: skip
    check(f"{settings.kills} service kills injected, every service killed at least once",
          len([f for f in kills if f.done]) == settings.kills and expected <= set(killed),
          f"killed {dict(killed)}")  # fmt: skip
    for kind, what in (("broker", "broker restart"), ("store", "store restart")):
        restarts = [f for f in faults if f.kind == kind]
        if kind == "store" and not store_restartable:
            lines.append("store restart: skipped (MONGO_URL names an external store)")
            continue
        check(f"one {what} injected", len(restarts) == 1 and restarts[0].done,
              restarts[0].error if restarts else "not planned")  # fmt: skip
    slow = [f"{f.kind} {f.target}" for f in faults if f.done and f.back_s is None]
    check(f"every service ready again within {BACK_WITHIN_S:.0f} s after every fault", not slow, _names(slow))

    # Orders.
    placed = [o for o in orders if o.order_id]
    by_state = Counter(o.status or "unknown" for o in orders)
    lines.append(f"orders by final state: {dict(by_state.most_common())}")
    check("every order placed", len(placed) == len(orders),
          _names([f"#{o.index} {o.status}" for o in orders if not o.order_id]))  # fmt: skip
    unfinished = [f"{o.order_id} ({o.status})" for o in placed if o.status not in FINAL]
    listed = f": {_names(unfinished, 20)}" if unfinished else ""
    lines.append(f"stuck orders (not final): {len(unfinished)}{listed}")
    check("no stuck order: every order final", not unfinished, _names(unfinished))
    marked = [f"{o.order_id} ({(o.stuck or {}).get('message_type')})" for o in placed if o.stuck]
    check("no order marked stuck by a parked message", not marked, _names(marked))
    wrong_end = [
        f"{o.order_id} {o.status}"
        for o in placed
        if o.status in FINAL and o.status != ("cancelled" if o.cancel and o.cancel_accepted else "completed")
    ]
    cancelled = sum(1 for o in placed if o.cancel and o.cancel_accepted)
    check("orders end as driven: cancelled when the cancel was accepted, else completed", not wrong_end,
          f"{cancelled} cancelled; " + _names(wrong_end))  # fmt: skip

    # Stock ledger per SKU: on hand = initial + received + restocked - shipped; nothing reserved.
    received: Counter[str] = Counter()
    for supplies in seen["supply"].values():
        for supply in supplies:
            if supply.get("status") == "completed":
                received[supply["sku"]] += int(supply["quantity"])
    shipped: Counter[str] = Counter()
    for o in placed:
        if o.status == "completed":
            shipped[o.sku] += o.quantity
    restocked: Counter[str] = Counter()  # returns put back on the shelf: this run makes none
    bad_stock = []
    lines.append("stock ledger per SKU (initial + received + restocked - shipped = on hand; reserved):")
    for sku, start in initial.items():
        stock = seen["stock"].get(sku) or {}
        on_hand, reserved = stock.get("on_hand"), stock.get("reserved")
        expect = start + received[sku] + restocked[sku] - shipped[sku]
        ok = on_hand == expect and reserved == 0
        lines.append(f"  {sku}: {start} + {received[sku]} + {restocked[sku]} - {shipped[sku]} = {expect}; "
                     f"on hand {on_hand}, reserved {reserved} {'ok' if ok else 'WRONG'}")  # fmt: skip
        if not ok:
            bad_stock.append(sku)
    check("stock ledger balances for every SKU, nothing left reserved", not bad_stock, _names(bad_stock))

    # Credit exposure per customer = what its completed orders invoiced (nothing is paid here).
    invoiced: Counter[str] = Counter()
    counts: dict[str, tuple[int, int]] = {}
    for o in placed:
        assert o.order_id is not None
        invoices = [i for i in seen["invoices"].get(o.order_id, []) if i.get("kind", "invoice") == "invoice"]
        shipments = [s for s in seen["shipments"].get(o.order_id, []) if s.get("status") != "cancelled"]
        counts[o.order_id] = (len(invoices), len(shipments))
        invoiced[o.customer] += sum(int(i.get("total", 0)) for i in invoices)
    bad_credit = []
    lines.append("credit exposure per customer (exposure = invoiced, unpaid):")
    for customer, exposure in seen["exposure"].items():
        ok = exposure == invoiced[customer]
        mark = "ok" if ok else "WRONG"
        lines.append(f"  {customer}: exposure {exposure}, invoiced {invoiced[customer]} {mark}")
        if not ok:
            bad_credit.append(customer)
    check("every customer's credit exposure equals what it was invoiced", not bad_credit, _names(bad_credit))
    per_order = Counter(counts.values())
    lines.append("invoices and shipments per order (invoices, live shipments): "
                 + ", ".join(f"{k}: {v} orders" for k, v in sorted(per_order.items())))  # fmt: skip
    status_of = {o.order_id: o.status for o in placed}
    not_once = [f"{oid} {c}" for oid, c in counts.items() if status_of[oid] == "completed" and c != (1, 1)]
    check("exactly one invoice and one shipment per completed order", not not_once, _names(not_once))
    invoiced_cancelled = [oid for oid, c in counts.items() if status_of[oid] == "cancelled" and c[0]]
    check("no invoice for a cancelled order", not invoiced_cancelled, _names(invoiced_cancelled))

    # The bus.
    lines.append(f"parked messages: {sum(parked.values())}" + (f" {parked}" if any(parked.values()) else ""))
    check("no parked message", not any(parked.values()), json.dumps(parked))
    marks = ledger.marker_counts()
    lines.append(f"markers across the broker restart: {marks}")
    check("no publish the broker confirmed was lost", marks["lost"] == 0, json.dumps(marks))
    check("the broker restart met publishes in flight (some markers unconfirmed)", marks["unconfirmed"] > 0,
          json.dumps(marks))  # fmt: skip
    lines.append(f"service messages routed: {len(ledger.envelopes)}, received more than once "
                 f"(republished or redelivered): {len(ledger.republished())}")  # fmt: skip
    check("every routed message handled by its consumers", not unhandled,
          _names([f"{s} {t} {m}" for s, t, m in unhandled]))  # fmt: skip

    # The door during the faults.
    lines.append(f"HTTP answers: {dict(sorted(answers.statuses.items()))}, transport errors "
                 f"{dict(answers.transport_errors)}, timeouts {answers.timeouts}")  # fmt: skip
    check("no 500 from any service", not answers.server_errors, _names(answers.server_errors, 3))
    check("every 503 carries the error body", not answers.bad_503, _names(answers.bad_503, 3))
    check(f"no request hung past {HTTP_TIMEOUT_S:.0f} s", answers.timeouts == 0, str(answers.timeouts))
    return checks, lines


async def settle(stack: Stack, ledger: BusLedger, within_s: float) -> list[tuple[str, str, str]]:
    """Drain the ledger until every routed message was handled by its consumers, or ``within_s``."""
    from tests.support.barriers import handled_counts

    deadline = time.monotonic() + within_s
    while True:
        await ledger.drain()
        missing = ledger.unhandled(lambda s: handled_counts(stack, s), CONSUMERS)
        if not missing or time.monotonic() > deadline:
            return missing
        await asyncio.sleep(0.5)


async def chaos(settings: Settings) -> tuple[list[Check], list[str], dict[str, Any]]:
    rng = random.Random(settings.seed)
    log(f"chaos: profile {settings.profile}, {settings.orders} orders, {settings.kills} kills, "
        f"seed {settings.seed} (CHAOS_SEED={settings.seed} repeats it)")  # fmt: skip
    with own_stack("chaos", private_broker=True) as own:
        stack = own.stack
        assert stack is not None and own.node is not None
        store_restartable = own.store is not None
        log(f"stack {stack.prefix}: broker node {own.node.name} on {own.node.port}, store {own.store_label}")
        shop, door = Shop(stack), Door(stack)
        ledger = await BusLedger(own.amqp_url, stack.prefix).start()
        stop_markers = asyncio.Event()
        markers = asyncio.create_task(ledger.markers(stop_markers, interval_s=0.05))
        try:
            customers = [await shop.customer(credit_limit=10**12) for _ in range(settings.customers)]
            # Four SKUs with room for every order, two short: their orders wait for a supplier.
            initial: dict[str, int] = {}
            for n in range(6):
                on_hand = 3 * settings.orders if n < 4 else max(2, settings.orders // 20)
                initial[await shop.product(on_hand=on_hand, price=9_900, sourcing="buy")] = on_hand
            skus = list(initial)
            orders = [
                Order(i, customers[i % len(customers)], rng.choice(skus), rng.randint(1, 3),
                      cancel=rng.random() * 100 < settings.cancel_percent)
                for i in range(settings.orders)
            ]  # fmt: skip
            faults = plan(rng, settings.kills, store_restartable)
            began = time.monotonic()
            driver = Driver(shop, door, settings.concurrency, began + settings.deadline_s)
            # A first chunk gets the saga going; then each fault strikes while the next chunk
            # arrives, its orders spread over the outage (placed while a service, the store or
            # the broker is away, they must get through the door or wait in an outbox).
            chunks = [orders[k :: len(faults) + 1] for k in range(len(faults) + 1)]
            tasks: list[asyncio.Task[None]] = []

            async def arrive(chunk: list[Order], over_s: float) -> None:
                for order in chunk:
                    tasks.append(asyncio.create_task(driver.drive(order, len(orders))))
                    await asyncio.sleep(over_s / len(chunk))  # an arrival schedule, not a wait

            await arrive(chunks[0], 2.0)
            for fault, chunk in zip(faults, chunks[1:], strict=True):
                arrivals = asyncio.create_task(arrive(chunk, fault.down_s + 2.0))
                await inject(own, stack, fault)
                await arrivals
            await asyncio.gather(*tasks)
            elapsed = time.monotonic() - began
            log(f"every order final or the deadline passed after {elapsed:.0f} s; settling the bus")
            unhandled = await settle(stack, ledger, within_s=60)
            stop_markers.set()
            await markers
            await ledger.drain()
            seen = await read_back(door, orders, time.monotonic() + 120)
            prefix = f"{stack.prefix}."
            parked = {
                name.removeprefix(prefix): count
                for name, count in (await asyncio.to_thread(own.node.queues, "messages")).items()
                if name.startswith(prefix) and name.endswith(".parked")
            }
            log_paths = [proc.log_path for proc in stack.procs.values()]
            await messages.settle(log_paths)
            handled = messages.summarize(
                messages.read_counts(log_paths),
                completed=[o.order_id for o in orders if o.order_id and o.status == "completed"],
                placed=[o.order_id for o in orders if o.order_id],
                factor=messages.warn_factor(),
            )
        finally:
            stop_markers.set()
            if not markers.done():
                markers.cancel()
            await ledger.close()
            await door.close()
            await shop.close()
    checks, lines = evaluate(settings, orders, faults, initial, seen, parked, ledger, unhandled,
                             door.answers, store_restartable)  # fmt: skip
    lines += handled.lines()
    lines.append(f"(run {elapsed:.0f} s; seed {settings.seed})")
    result = {
        "settings": asdict(settings),
        "faults": [asdict(f) for f in faults],
        "statuses": dict(Counter(o.status or "unknown" for o in orders)),
        "markers": ledger.marker_counts(),
        "parked": parked,
        "http": {
            "statuses": dict(door.answers.statuses),
            "transport_errors": dict(door.answers.transport_errors),
            "timeouts": door.answers.timeouts,
        },
        "messages_handled": handled.as_dict(),
        "elapsed_s": round(elapsed, 1),
        "checks": [asdict(c) for c in checks],
    }
    return checks, lines, result


def main() -> int:
    # The run's own ledger connection sees the broker restart: that is the fault, not news.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    settings = Settings.from_env()
    try:
        checks, lines, result = asyncio.run(chaos(settings))
    except httpx.HTTPError as exc:
        print(f"chaos run failed talking to a service: {exc}")
        print("0 passed, 1 failed")
        return 1
    out = Path(".bench/chaos.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("\n".join(lines))
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'} {c.name}" + (f": {c.detail}" if c.detail and not c.ok else ""))
    passed = sum(1 for c in checks if c.ok)
    print(f"(saved to {out})", file=sys.stderr)
    print(f"{passed} passed, {len(checks) - passed} failed")
    return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
