"""Reordering end to end (issue 9): the replies intake receives, delivered in random order and some
of them twice, end every order where in-order delivery ends it, and nothing valid is parked.

The module starts a stack of its own (all six services as the real, unchanged processes, fresh
prefixes). On it the same mix of orders runs twice:

1. **in order**: one order of each kind with intake bound to its replies as in production; what
   these end as (status, documents, shipments, supply, stock of their own SKU) is the reference;
2. **shuffled**: ``REORDER_ORDERS`` orders of the same kinds with a ``Shuffler``
   (tests/support/shuffler.py) in front of intake's queue: every event intake consumes is held
   up to ``REORDER_HOLD_S`` and handed on in a seeded random order, ``REORDER_DUPLICATES`` of
   them twice.

The kinds (``KINDS``): in stock and delivered; short, supplied by the warehouse, delivered;
cancelled mid-way: just after placing, once the carrier is booked, while waiting for supply, and
just after the supply arrived; and changed once the carrier is booked (one unit more: the shipment
is held and booked again, issue 8), then delivered. The test drives each order as the company would
(the shop places, changes and cancels, the warehouse completes supply, the carrier reports
``picked_up`` and at once ``delivered``), from what the bus shows (the shipment and supply order
ids) and intake's order, so replies of one order are in flight together: the shuffler has something
to reorder within an order, not only across orders. It then waits until every message seen on the
bus was handled by everything that consumes it, and checks that every order ends like its kind did
in order (completed or cancelled, one invoice and one shipment per completed order, none for a
cancelled one, supply as expected), no stock is left reserved and on hand is what was shipped, each
customer's exposure is what it was invoiced, nothing is parked anywhere and no order is stuck, the
shuffler saw only senders that may send what they sent, intake handled each reply exactly as often
as the shuffler handed it on (it got none past the shuffler), and the shuffler really delivered
messages of one order in another order than they arrived.

Intake's record of the supply orders a short order waited for is checked too
(``assert_supply_records_as_in_order``): it found that a late ``SupplyRaised`` left a stub and a
``StockReceived`` after ``StockReserved`` was ignored (both fixed, with unit tests in
test_intake_saga_reliability.py).

Settings (environment): ``REORDER_ORDERS`` (100, about a minute; the full profile is a few
hundred: ``REORDER_ORDERS=300``), ``REORDER_SEED`` (default: random, printed and named in every
failure), ``REORDER_HOLD_S`` (0.8), ``REORDER_DUPLICATES`` (0.1), ``REORDER_CONCURRENCY``
(orders driven at once, 20).

    REORDER_ORDERS=300 .venv/bin/python -m pytest tests/e2e/test_reordering.py -q -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import astuple, dataclass, field
from typing import Any

import pytest

from shared.registry import SERVICES
from tests.support.api import Shop
from tests.support.barriers import eventually, handled_counts, lines_about, quiet
from tests.support.consumers import consumed_types
from tests.support.probe import BusProbe
from tests.support.shuffler import Shuffler
from tests.support.stack import OwnStack, Stack, own_stack

pytestmark = pytest.mark.e2e

ORDERS = int(os.environ.get("REORDER_ORDERS", "100"))
SEED = int(os.environ.get("REORDER_SEED") or random.SystemRandom().randrange(2**31))
HOLD_S = float(os.environ.get("REORDER_HOLD_S", "0.8"))
DUPLICATES = float(os.environ.get("REORDER_DUPLICATES", "0.1"))
CONCURRENCY = int(os.environ.get("REORDER_CONCURRENCY", "20"))

# kind -> weight in the mix, and the final status in-order delivery gives it.
KINDS: dict[str, tuple[int, str]] = {
    "in_stock": (4, "completed"),  # reserved, booked, picked up and delivered, invoiced
    "short": (3, "completed"),  # a shortage: supply raised, completed by the warehouse, then as above
    "cancel_placed": (1, "cancelled"),  # cancelled as soon as it is placed (credit check in flight)
    "cancel_booked": (1, "cancelled"),  # cancelled once the carrier is booked (ShipmentCreated in flight)
    "cancel_waiting": (1, "cancelled"),  # short, cancelled while its supply order is open
    "cancel_supplied": (1, "cancelled"),  # short, cancelled just after the warehouse completed supply
    # booked, then one more unit (issue 8, R7.2): the shipment held, credit and stock adjusted, the
    # shipment booked again with a new tracking number, then picked up and delivered
    "change_booked": (1, "completed"),
}
SHORT_KINDS = frozenset({"short", "cancel_waiting", "cancel_supplied"})
RACING_BOOKING = frozenset({"cancel_placed", "cancel_supplied"})  # the cancel races the carrier's booking
FINAL = frozenset({"completed", "cancelled", "rejected", "returned", "partially_returned"})
CUSTOMERS = 5
POOL_SKUS = 5
POOL_ON_HAND = 10_000
POLL_S = 0.5
ORDER_WITHIN_S = 120.0  # one order from placing to final, under the shuffler and a loaded machine
INTAKE_REPLIES = consumed_types("intake")
CONSUMED_BY = {service: consumed_types(service) for service in SERVICES}


def about() -> str:
    return f"REORDER_SEED={SEED} REORDER_ORDERS={ORDERS} REORDER_HOLD_S={HOLD_S}"


@pytest.fixture(scope="module")
def reorder(amqp_url: str, mongo_url: str) -> Iterator[OwnStack]:
    """All six services on a stack of this module's own: the shuffler moves intake's bindings,
    which no other test's stack must share. ``amqp_url`` made the services' bus users."""
    with own_stack("reordering", mongo_url=mongo_url) as own:
        yield own


@pytest.fixture
def stack(reorder: OwnStack) -> Stack:
    assert reorder.stack is not None
    return reorder.stack


@pytest.fixture
async def shop(stack: Stack) -> AsyncIterator[Shop]:
    async with Shop(stack) as shop:
        yield shop


@pytest.fixture
async def probe(reorder: OwnStack, stack: Stack) -> AsyncIterator[BusProbe]:
    probe = await BusProbe(reorder.amqp_url, stack.prefix).start()
    yield probe
    await probe.close()


# --- driving one order ---------------------------------------------------------------------------


@dataclass
class Placed:
    kind: str
    order_id: str
    customer: str
    sku: str
    quantity: int
    own_sku: bool  # the SKU is this order's alone (the short kinds): its stock is the order's story
    door_flags: frozenset[str] = frozenset()  # set when it was placed (R1.6), by what came before it
    final: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    shop: Shop
    probe: BusProbe
    customers: list[str]
    pool: list[str]  # in-stock SKUs shared by the orders that are not short
    shuffler: Shuffler | None = None  # in front of intake during the shuffled run

    @classmethod
    async def make(cls, shop: Shop, probe: BusProbe) -> World:
        customers = [await shop.customer(credit_limit=10**10) for _ in range(CUSTOMERS)]
        pool = [await shop.product(on_hand=POOL_ON_HAND, price=9_900) for _ in range(POOL_SKUS)]
        return cls(shop, probe, customers, pool)


def mix(count: int, rng: random.Random) -> list[str]:
    """``count`` kinds in the proportions of KINDS (every kind at least once from 11 on), shuffled."""
    pattern = [kind for kind, (weight, _) in KINDS.items() for _ in range(weight)]
    kinds = [pattern[i % len(pattern)] for i in range(count)]
    rng.shuffle(kinds)
    return kinds


async def final_order(shop: Shop, order_id: str, within: float = ORDER_WITHIN_S) -> dict[str, Any]:
    """Poll intake until the order is in a final status; fail with its history."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        order = await shop.order(order_id)
        if order["status"] in FINAL:
            return order
        if loop.time() > deadline:
            history = [(h.get("status") or h.get("event"), h.get("reason")) for h in order["history"]]
            raise AssertionError(
                f"{order_id} is still {order['status']} after {within:.0f} s ({about()}); "
                f"stuck {order.get('stuck')}; history {history}"
            )
        await asyncio.sleep(POLL_S)


async def cancel(shop: Shop, order_id: str) -> None:
    response = await shop.cancel(order_id)
    assert response.status_code == 202, f"cancelling {order_id}: {response.status_code} {response.text}"


async def carrier(shop: Shop, shipment_id: str) -> None:
    """The carrier picks up and at once reports the delivery: the two events travel together."""
    for event in ("picked_up", "delivered"):
        response = await shop.as_("carrier")["logistics"].post(
            f"/shipments/{shipment_id}/events", json={"type": event}
        )
        await shop.ok(response)


async def drive(world: World, kind: str, n: int) -> Placed:
    """Place one order of ``kind`` and do what the company does with it, up to its final status;
    a failure tells the order's story (its messages on the bus, in the shuffler, in intake)."""
    shop = world.shop
    customer = world.customers[n % len(world.customers)]
    if kind in SHORT_KINDS:
        sku, quantity = await shop.product(on_hand=1, sourcing="buy", lead=5), 3
    else:
        sku, quantity = world.pool[n % len(world.pool)], 1 + n % 2
    order_id = (await shop.place(customer, [(sku, quantity)]))["order_id"]
    try:
        door_flags = frozenset((await shop.order(order_id))["flags"])
        placed = Placed(kind, order_id, customer, sku, quantity, kind in SHORT_KINDS, door_flags)
        await act(world, kind, order_id)
        placed.final = await final_order(shop, order_id)
    except AssertionError as exc:
        order = await shop.order(order_id)
        history = [(h.get("status") or h.get("event"), h.get("reason")) for h in order["history"]]
        raise AssertionError(
            f"{kind} {order_id}: {exc}; it is {order['status']}, history {history}; {story(world, order_id)}"
        ) from None
    return placed


async def act(world: World, kind: str, order_id: str) -> None:
    """What the shop, the warehouse and the carrier do with a placed order of ``kind``. What to act
    on comes from the bus (the probe sees every event as it is published, before the shuffler
    holds intake's copy), so the order's next replies are in flight together."""
    shop, probe, within = world.shop, world.probe, ORDER_WITHIN_S
    if kind == "cancel_placed":
        await cancel(shop, order_id)
    elif kind == "change_booked":
        await change_booked(world, order_id)
    elif kind in ("in_stock", "cancel_booked"):
        booked = (await probe.wait_for("ShipmentCreated", order_id, within=within))[0]
        if kind == "cancel_booked":
            await cancel(shop, order_id)
        else:
            await carrier(shop, booked.payload["shipment_id"])
    else:
        raised = (await probe.wait_for("SupplyRaised", order_id, within=within))[0]
        if kind == "cancel_waiting":
            await cancel(shop, order_id)
            return
        for supply in raised.payload["supply_orders"]:
            await shop.complete_supply(supply["supply_order_id"])
        if kind == "cancel_supplied":
            await cancel(shop, order_id)
        else:
            booked = (await probe.wait_for("ShipmentCreated", order_id, within=within))[0]
            await carrier(shop, booked.payload["shipment_id"])


async def change_booked(world: World, order_id: str) -> None:
    """Once intake knows the booking, the shop asks for one unit more; the carrier takes the
    shipment booked again (its new tracking number on the bus) (R7.2)."""
    shop, probe, within = world.shop, world.probe, ORDER_WITHIN_S
    first = (await probe.wait_for("ShipmentCreated", order_id, within=within))[0].payload["tracking_number"]
    order = await shop.wait_until(order_id, lambda o: first in o["tracking_numbers"], within=within)
    [line] = order["lines"]
    body = {"lines": [{"sku": line["sku"], "quantity": line["quantity"] + 1}], "reason": "one more"}
    response = await shop.as_("storefront")["intake"].post(f"/orders/{order_id}/changes", json=body)
    assert response.status_code == 202, f"changing {order_id}: {response.status_code} {response.text}"
    again = await probe.wait_for("ShipmentCreated", order_id, within=within,
                                 where=lambda e: e.payload["tracking_number"] != first)  # fmt: skip
    await carrier(shop, again[0].payload["shipment_id"])


def story(world: World, order_id: str) -> str:
    """What happened to the order's messages: on the bus, in the shuffler, in their consumers' logs."""
    seen = [e for e in world.probe.seen if e.correlation_id == order_id]
    told = [f"bus {[(e.type, e.message_id[:8]) for e in seen]}"]
    if world.shuffler is not None:
        sh = world.shuffler
        arrived = [(a.type, a.message_id[:8]) for a in sh.arrivals if a.order_id == order_id]
        handed = [(r.type, r.message_id[:8], r.copy) for r in sh.releases if r.order_id == order_id]
        told.append(f"shuffler got {arrived}, handed on {handed} ({sh.held} held; {sh._failure!r})")
    for e in seen:  # what each consumer logged for each message of the order (handled, retried ...)
        for service in SERVICES:
            if e.type in CONSUMED_BY[service]:
                lines = lines_about(world.shop.stack, service, e.message_id)
                logged = [(x.get("msg"), x.get("error")) for x in lines]
                told.append(f"{service} on {e.type} {e.message_id[:8]}: {logged}")
    return "; ".join(told)


async def run_mix(world: World, kinds: list[str]) -> list[Placed]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int, kind: str) -> Placed:
        async with gate:
            return await drive(world, kind, n)

    return list(await asyncio.gather(*(one(n, kind) for n, kind in enumerate(kinds))))


# --- what an order ended as ----------------------------------------------------------------------


async def outcome(shop: Shop, placed: Placed) -> dict[str, Any]:
    """What the order left behind, read after the stack went quiet: what must equal in-order's
    (the order as read is kept in ``placed.final``)."""
    order = placed.final = await shop.order(placed.order_id)
    invoices = await shop.invoices(placed.order_id)
    shipments = sorted(s["status"] for s in await shop.shipments(placed.order_id))
    live = [s for s in shipments if s != "cancelled"]
    supply = sorted(
        (s["kind"], s["status"], s["quantity"]) for s in await shop.supply_orders(placed.order_id)
    )
    statuses = [h["status"] for h in order["history"] if h.get("status")]
    completed = order["status"] == "completed"
    shape: dict[str, Any] = {
        "status": order["status"],
        "invoices": sorted((d["kind"], d["total"] == order["total"]) for d in invoices),
        "invoice_ids": len(order["invoice_ids"]),
        # Whether the cancel lands before or after the booking is timing, even in order (but for the
        # kind that waits for the booking): only shipments not cancelled count there.
        "shipments": live if placed.kind in RACING_BOOKING else shipments,
        "supply": supply,
        # For a cancelled order only the end is a matter of order: when the cancel landed is timing.
        "statuses": statuses if completed else statuses[statuses.index("cancelling") :],
        "tracking_numbers": len(order["tracking_numbers"]) if completed else None,
        "stuck": order.get("stuck"),
        # The door's flags (a possible duplicate ...) depend on the orders placed before, not on replies.
        "flags": sorted(set(order["flags"]) - placed.door_flags),
    }
    if placed.own_sku:
        stock = await shop.stock(placed.sku)
        shape["stock"] = (stock["on_hand"], stock["reserved"])
    return shape


def record(order: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Intake's own record of the order's supply orders: kind, status, expected date known."""
    return sorted((s["kind"], s["status"], bool(s["expected_at"])) for s in order.get("supply_orders", []))


async def gather_limited(calls: list[Any], limit: int = 10) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def mark_drift(stack: Stack, customers: list[str], ended: dict[str, Any]) -> list[Any]:
    """Billing's own documents on a credit mismatch: every order whose mark in its customer's
    totals (held, receivable, seq) is not what its account says, with how the order ended."""
    from pymongo import AsyncMongoClient

    from services.billing.adapters.mongo_accounts import from_doc
    from shared.keys import decode_key

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url)
    try:
        db = client[f"{stack.prefix}_billing"]
        drift: list[Any] = []
        for customer_id in customers:
            doc = await db["customers"].find_one({"_id": customer_id}) or {}
            marks = {decode_key(k): v for k, v in (doc.get("marks") or {}).items()}
            totals = (doc.get("held"), doc.get("receivable"), doc.get("exposure"))
            summed = (sum(m.get("h", 0) for m in marks.values()), sum(m.get("r", 0) for m in marks.values()))
            drift.append((customer_id, "totals", totals, "marks sum", summed))
            async for raw in db["order_accounts"].find({"customer_id": customer_id}):
                account = from_doc(raw)
                mark = marks.get(account.order_id, {})
                if (mark.get("h", 0), mark.get("r", 0), mark.get("s", 0)) != astuple(account.mark()):
                    how = ended.get(account.order_id)
                    drift.append((account.order_id, account.state, account.mark(), mark, how))
        return drift
    finally:
        await client.close()


# --- the test ------------------------------------------------------------------------------------


async def test_replies_in_random_order_and_twice_end_every_order_as_in_order_delivery_does(
    reorder: OwnStack, stack: Stack, shop: Shop, probe: BusProbe
):
    print(f"\nreordering: {about()} REORDER_DUPLICATES={DUPLICATES} REORDER_CONCURRENCY={CONCURRENCY}")
    rng = random.Random(SEED)
    world = await World.make(shop, probe)

    # 1. In order: one order of each kind, intake bound as in production.
    began = time.perf_counter()
    in_order = await run_mix(world, list(KINDS))
    await quiet(stack, probe, within=60)
    reference = {p.kind: await outcome(shop, p) for p in in_order}
    in_order_s = time.perf_counter() - began
    for kind, shape in reference.items():
        assert shape["status"] == KINDS[kind][1], f"in order, {kind} ended {shape} ({about()})"

    # 2. Shuffled: the same kinds, N orders, every reply intake consumes held and reordered.
    async with Shuffler(
        reorder.amqp_url, stack.prefix, "intake", seed=SEED, max_hold_s=HOLD_S, duplicate_rate=DUPLICATES
    ) as shuffler:
        world.shuffler = shuffler
        began = time.perf_counter()
        shuffled = await run_mix(world, mix(ORDERS, rng))
        await quiet(stack, probe, within=120)
        shuffled_s = time.perf_counter() - began
        shuffler.check()
        ids = {p.order_id for p in shuffled}

        # Intake got every reply of these orders through the shuffler, as often as it handed it on.
        copies = shuffler.copies_of()
        passed_by = [
            (e.type, e.message_id)
            for e in probe.seen
            if e.correlation_id in ids and e.type in INTAKE_REPLIES and e.routing_key.startswith("evt.")
            and e.message_id not in copies
        ]  # fmt: skip
        assert not passed_by, f"replies that reached intake past the shuffler: {passed_by[:10]}"

        def handled_as_handed_on() -> list[tuple[str, int, int]]:
            counts = handled_counts(stack, "intake")
            return [(m, n, counts[m]) for m, n in copies.items() if counts[m] != n]

        try:
            await eventually(lambda: not handled_as_handed_on(), within=30, what="intake's handling")
        except AssertionError:
            raise AssertionError(
                "intake did not handle each reply as often as the shuffler handed it on (id, handed "
                f"on, handled): {handled_as_handed_on()[:10]}"
            ) from None

    # What every order ended as, against in-order delivery of its kind.
    shapes = await gather_limited([outcome(shop, p) for p in shuffled])
    differ = [(p.kind, p.order_id, shape) for p, shape in zip(shuffled, shapes, strict=True)
              if shape != reference[p.kind]]  # fmt: skip
    by_kind = Counter(p.kind for p in shuffled)
    by_status = Counter((p.kind, s["status"]) for p, s in zip(shuffled, shapes, strict=True))
    records = Counter((p.kind, str(record(p.final))) for p in shuffled if p.own_sku)
    overtaken = shuffler.overtaken(ids)
    same_order = sum(overtaken.values())
    print(
        f"reordering: in order {len(in_order)} orders in {in_order_s:.1f} s; shuffled {len(shuffled)} in "
        f"{shuffled_s:.1f} s; {len(shuffler.arrivals)} replies held (at most {shuffler.most_held} at "
        f"once), {shuffler.duplicated()} handed on twice, "
        f"{shuffler.inversions(same_order=False, order_ids=ids)} pairs out of arrival order, "
        f"{same_order} of them within one order; most overtaken (first out, arrived first): "
        f"{overtaken.most_common(8)}\nreordering: by kind and status {sorted(by_status.items())}; "
        f"intake's supply records {sorted(records.items())}, in order "
        f"{sorted((p.kind, str(record(p.final))) for p in in_order if p.own_sku)}"
    )
    assert not shuffler.foreign, f"senders that may not send what they sent: {shuffler.foreign[:10]}"
    if differ:
        first = await shop.order(differ[0][1])
        history = [(h.get("status") or h.get("event"), h.get("by"), h.get("reason"))
                   for h in first["history"]]  # fmt: skip
        raise AssertionError(
            f"{len(differ)} of {len(shuffled)} orders ended otherwise than in order ({about()}); "
            f"first: {differ[:3]}; the first one's history {history}; "
            f"story: {story(world, differ[0][1])}; in order: {reference}"
        )
    for p, shape in zip(shuffled, shapes, strict=True):
        if shape["status"] == "completed":  # one invoice and one shipment, delivered
            assert shape["invoices"] == [("invoice", True)] and shape["shipments"] == ["delivered"], (
                p.order_id
            )
        else:
            assert not shape["invoices"] and "delivered" not in shape["shipments"], p.order_id

    # Ledgers over both runs: nothing left reserved, the pool shipped what completed, credit = invoiced.
    everything = [*in_order, *shuffled]
    shipped: Counter[str] = Counter()
    for p in everything:
        if p.final["status"] == "completed" and not p.own_sku:
            shipped[p.sku] += sum(line["quantity"] for line in p.final["lines"])  # as changed
    for sku in world.pool:
        stock = await shop.stock(sku)
        assert (stock["on_hand"], stock["reserved"]) == (POOL_ON_HAND - shipped[sku], 0), (sku, stock)
    invoiced: Counter[str] = Counter()
    for p in everything:
        invoiced[p.customer] += sum(int(d["total"]) for d in await shop.invoices(p.order_id))
    credit = {c: await shop.credit(c) for c in world.customers}
    exposure = {c: int(credit[c]["exposure"]) for c in world.customers}
    # On a mismatch, the orders billing still counts, with how each ended at intake (to find it).
    ended = {p.order_id: (p.kind, p.final["status"]) for p in everything}
    counted = {c: [(o["order_id"], o["state"], o["held"], o["receivable"], ended.get(o["order_id"]))
                   for o in credit[c].get("orders", []) if o["held"] or o["receivable"]]
               for c in world.customers if exposure[c] != invoiced[c]}  # fmt: skip
    if exposure != {c: invoiced[c] for c in world.customers}:
        drift = await mark_drift(stack, [c for c in world.customers if exposure[c] != invoiced[c]], ended)
        # An order intake ended cancelled that billing still counts: its history and its messages.
        held = [o[0] for orders in counted.values() for o in orders
                if o[4] is not None and o[4][1] == "cancelled"]  # fmt: skip
        stories = [(oid, [(h.get("status") or h.get("event"), h.get("by"), h.get("reason"))
                          for h in (await shop.order(oid))["history"]], story(world, oid))
                   for oid in held[:2]]  # fmt: skip
        raise AssertionError(
            f"credit exposure is not what was invoiced ({about()}): cancelled orders billing still "
            f"counts {held}, their stories {stories}; marks that differ from their order's account "
            f"{drift}; exposure {exposure}; invoiced {dict(invoiced)}; counted {counted}"
        )

    # Nothing parked that was valid: no parking queue holds anything, no order is stuck.
    parked = {s: await probe.parked(s) for s in SERVICES}
    assert not any(parked.values()), {s: [h.get("x-error") for _, h in m] for s, m in parked.items() if m}
    stuck = await shop.ok(await shop.http["intake"].get("/orders", params={"stuck": "true", "limit": 1000}))
    assert not stuck["items"], [(o["order_id"], o["stuck"]) for o in stuck["items"]][:10]

    # And the shuffler did reorder: messages of one order reached intake out of their arrival order.
    assert set(by_kind) == set(KINDS) or ORDERS < sum(w for w, _ in KINDS.values()), by_kind
    assert same_order >= max(1, ORDERS // 5), (
        f"only {same_order} same-order pairs reordered over {ORDERS} orders ({about()})"
    )
    if DUPLICATES > 0 and len(shuffler.arrivals) >= 100:
        assert shuffler.duplicated() > 0
    assert_supply_records_as_in_order(shuffled, shuffler.overtaken_per_order())


def assert_supply_records_as_in_order(shuffled: list[Any], overtaken: dict[str, Any]) -> None:
    """The statuses and ledgers do not depend on reply order; intake's record of the supply orders
    a short order waited for must not either. In order it is ``purchase``, ``received``, with its
    expected date, and the order has an expected delivery (both overtakings were bugs, fixed)."""
    wrong, looked = [], 0
    for p in shuffled:
        if p.kind != "short":
            continue
        pairs = set(overtaken[p.order_id])
        supply, expected = p.final["supply_orders"], p.final["expected_delivery"]
        if ("SupplyCompleted", "SupplyRaised") in pairs:
            looked += 1
            if not supply or expected is None or any(not s["kind"] or not s["expected_at"] for s in supply):
                wrong.append(("SupplyCompleted before SupplyRaised", p.order_id, supply, expected))
        if ("StockReserved", "StockReceived") in pairs:
            looked += 1
            if not supply or any(s["status"] != "received" for s in supply):
                wrong.append(("StockReserved before StockReceived", p.order_id, supply, expected))
    # A run of 100 orders overtakes some 30 supply replies; none means the check saw nothing.
    assert looked >= 1, f"no supply reply of a short order was overtaken: nothing checked ({about()})"
    assert not wrong, f"{len(wrong)} of {looked} overtaken supply replies: {wrong[:3]} ({about()})"
