"""Benchmark: orders through the whole saga on the real broker and store (``make bench``).

Prints figures only; nothing here asserts a time (the targets are printed beside the figures
for people to read). Starts its own stacks with fresh prefixes, so it can run next to
``make run``. In one run, on one machine (docs/ARCHITECTURE.md "Performance"):

1. one process per service: a short warm-up, then the **max** phase (closed loop: ``--orders``
   orders, ``--concurrency`` at the door, each shipped and delivered as soon as its shipment
   exists) and the **half-load** phase (open loop: half the max orders/s as a fixed arrival
   rate for ``--half-load-s`` seconds); per phase orders/s end to end, POST /orders and saga
   (POST -> InvoiceIssued) p50/p99, CPU-ms per order of every process (/proc: services, store,
   RabbitMQ), store round trips per order per service (``GET /ops/metrics``), messages per
   order (handled, from the logs: ``benches/messages.py``; published, from the bus), RSS;
   then the final state (nothing lost or doubled: ``benches/replicas.py``);
2. the ceilings, with the services stopped: the broker alone and the store alone doing the
   max phase's messages and store operations (``benches/ceilings.py``); orders/s as a
   fraction of the lower one;
3. scale-out (``--replicas 2``, 0 skips it): two processes of every service as competing
   consumers, ``--replica-orders`` orders, the same figures and the final-state check.

Figures go to ``.bench/saga_throughput.json``; a ``target missed: ...`` line names each
target not reached, and a ``WARNING:`` line names orders that handled more than
``BENCH_MESSAGES_WARN_FACTOR`` (default 3) x the happy-path messages.

    python -m benches.saga_throughput --orders 300 --concurrency 20 --customers 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benches import ceilings, messages, meter, report
from benches.load import Driver, Timing
from benches.procstat import broker_pid
from benches.replicas import Deployment, final_state
from benches.watch import Watch
from devstack.processes import SERVICES
from shared.settings import ServiceSettings
from tests.support.api import Shop, uid
from tests.support.probe import BusProbe
from tests.support.stack import OwnStack, own_stack

# --- helpers the fault run (benches/fault_run.py) shares --------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


_last_reported: dict[str, int] = {}


def progress(label: str, done: int, total: int) -> None:
    """A bar redrawn in place on a terminal; in a log (CI), one line per tenth of the work."""
    if sys.stderr.isatty():
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{label:<22} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
    else:
        tenth = done * 10 // max(total, 1)
        if _last_reported.get(label) == tenth:
            return
        _last_reported[label] = tenth
        sys.stderr.write(f"{label:<22} {done}/{total}\n")
    sys.stderr.flush()


async def place_all(
    shop: Shop, customers: list[str], skus: list[str], orders: int, concurrency: int
) -> list[tuple[str, float, float]]:
    """Returns (order_id, submitted_at, POST latency) per order."""
    gate = asyncio.Semaphore(concurrency)
    results: list[tuple[str, float, float]] = []

    async def one(i: int) -> None:
        async with gate:
            started = time.perf_counter()
            order = await shop.place(customers[i % len(customers)], [(skus[i % len(skus)], 1)])
            results.append((order["order_id"], started, time.perf_counter() - started))
            progress("placing orders", len(results), orders)

    await asyncio.gather(*(one(i) for i in range(orders)))
    return results


async def wait_all(probe: BusProbe, type_name: str, order_ids: list[str], label: str) -> dict[str, float]:
    seen: dict[str, float] = {}
    wanted = set(order_ids)
    deadline = time.perf_counter() + 600
    while len(seen) < len(wanted) and time.perf_counter() < deadline:
        for env in probe.seen:
            if env.type == type_name and env.correlation_id in wanted and env.correlation_id not in seen:
                seen[env.correlation_id] = time.perf_counter()
        progress(label, len(seen), len(wanted))
        await asyncio.sleep(0.1)
    return seen


async def statuses(shop: Shop, order_ids: list[str], concurrency: int) -> dict[str, str]:
    """Each order's status over GET /orders/{id}; an order intake cannot answer for is left out."""
    gate = asyncio.Semaphore(concurrency)
    found: dict[str, str] = {}

    async def one(order_id: str) -> None:
        async with gate:
            try:
                response = await shop.http["intake"].get(f"/orders/{order_id}")
            except httpx.HTTPError:
                return
            if response.status_code == 200:
                found[order_id] = response.json()["status"]

    await asyncio.gather(*(one(o) for o in order_ids))
    return found


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def clients(urls: list[str], key: str) -> list[httpx.AsyncClient]:
    """Clients with the stack's admin key (issue 7): the bench is every caller at once."""
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    headers = {"Authorization": f"Bearer {key}"}
    return [httpx.AsyncClient(base_url=u, timeout=30, limits=limits, headers=headers) for u in urls]


async def master_data(
    billing: httpx.AsyncClient, inventory: httpx.AsyncClient, customers: int, skus: int, on_hand: int
) -> tuple[list[str], dict[str, int]]:
    """``customers`` customers with room for every order, ``skus`` products with ``on_hand`` each."""
    ids = [uid("CUST") for _ in range(customers)]
    for customer_id in ids:
        body = {
            "name": f"Shanghai Lamp Trading Co., Ltd. {customer_id}",
            "payment_terms": "credit",
            "credit_limit": 10**12,
        }
        (await billing.put(f"/customers/{customer_id}", json=body)).raise_for_status()
    stock = {}
    for _ in range(skus):
        sku = uid("SKU")
        body = {"name": f"Lamp {sku}", "unit_price": 9_900, "sourcing": "buy", "lead_time_days": 5}
        (await inventory.put(f"/products/{sku}", json=body)).raise_for_status()
        (await inventory.put(f"/stock/{sku}", json={"on_hand": on_hand})).raise_for_status()
        stock[sku] = on_hand
    return ids, stock


def production_timing() -> dict[str, str]:
    """The outbox relay's production period and grace: the test stack shortens them, which would
    add scans (and early republishes under load) that production does not have. Retry delays
    stay the test stack's, whose teardown knows their queues; nothing is retried on this path."""
    fields = ServiceSettings.model_fields
    timing = {name.upper(): str(fields[name].default) for name in ("relay_interval_s", "relay_grace_s")}
    # The bench's one key is every storefront at once: its rate is not a storefront's (issue 7).
    return {**timing, "RATE_LIMITS": "admin=1000000/1000000"}


class Run:
    """One deployment under load: its processes, its window on the bus, its HTTP clients."""

    def __init__(self, deployment: Deployment, watch: Watch, pids: dict[str, int | None]) -> None:
        self.deployment, self.watch = deployment, watch
        procs = deployment.procs()
        self.pids = {**{n: p.popen.pid for n, p in procs.items()}, **pids, "bench": os.getpid()}
        self.urls = {n: p.url for n, p in procs.items()}
        key = deployment.stack.key("admin")
        self.http = httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {key}"})
        self.intake = clients(deployment.urls("intake"), key)
        self.logistics = clients(deployment.urls("logistics"), key)
        self.billing, self.inventory = clients(
            [deployment.stack.url("billing"), deployment.stack.url("inventory")], key
        )
        self.timings: list[Timing] = []

    async def close(self) -> None:
        for client in [self.http, *self.intake, *self.logistics, self.billing, self.inventory]:
            await client.aclose()

    async def warm_up(self, load: Any) -> None:
        """Untimed orders (first requests pay for connections and caches); checked at the end too."""
        self.timings.extend(await load)
        await self.watch.quiet(1.0, within_s=30)

    async def idle(self, seconds: float) -> dict[str, Any]:
        """The background cost: every process with no order in flight for ``seconds``."""
        before = await meter.snapshot(self.http, self.pids, self.urls)
        await asyncio.sleep(seconds)
        return meter.idle(before, await meter.snapshot(self.http, self.pids, self.urls))

    async def measure(self, label: str, load: Any) -> dict[str, Any]:
        """Run ``load`` (a coroutine giving the phase's timings) between two snapshots."""
        before = await meter.snapshot(self.http, self.pids, self.urls)
        started = time.perf_counter()
        timings: list[Timing] = await load
        self.timings.extend(timings)
        await self.watch.quiet(1.0, within_s=30)  # the last replies handled, outboxes cleared
        after = await meter.snapshot(self.http, self.pids, self.urls)
        figures = report.phase(timings, started)
        figures["cost"] = meter.cost(before, after, len(timings))
        ids = [t.order_id for t in timings if t.order_id]
        done = [t.order_id for t in timings if t.order_id and t.invoiced is not None]
        counted = messages.summarize(
            messages.read_counts(self.deployment.log_paths()),
            completed=done,
            placed=ids,
            factor=messages.warn_factor(),
        )
        figures["messages"] = {
            **counted.as_dict(),
            "mean": round(counted.messages / counted.orders, 2) if counted.orders else 0.0,
            "published_mean": round(sum(self.watch.published[o] for o in ids) / len(ids), 2) if ids else 0.0,
            "mean_bytes": round(self.watch.mean_bytes),
            "lines": counted.lines(),
        }
        done_of = f"{figures['completed']}/{figures['orders']}"
        log(f"{label}: {done_of} invoiced, {figures['orders_per_s']:g} orders/s")
        return figures

    async def final_state(self, mongo_url: str, stock_before: dict[str, int]) -> dict[str, Any]:
        lines = {t.order_id: (t.sku, t.quantity) for t in self.timings if t.order_id}
        return await final_state(
            mongo_url, self.deployment.stack.prefix, lines, stock_before, self.inventory, self.watch
        )


async def start(own: OwnStack, replicas: int, pids: dict[str, int | None]) -> Run:
    deployment = Deployment(own.make_stack(production_timing()), replicas=replicas)
    log(f"starting {replicas} x {len(SERVICES)} service processes")
    try:
        deployment.start(SERVICES)
        watch = await Watch(own.amqp_url, deployment.stack.prefix).start()
    except BaseException:
        deployment.stop()  # whatever did start
        raise
    return Run(deployment, watch, pids)


async def stop(run: Run | None) -> None:
    if run is None:
        return
    await run.close()
    await run.watch.close()
    run.deployment.stop()


async def one_process_each(
    args: argparse.Namespace, own: OwnStack, pids: dict[str, int | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    run = None
    try:
        run = await start(own, 1, pids)
        customers, stock = await master_data(run.billing, run.inventory, args.customers, 10, 10**6)
        driver = Driver(
            run.watch, run.intake, run.logistics, customers, list(stock), args.concurrency, progress
        )
        timeout = max(120.0, args.orders / 2)
        if args.warmup:
            await run.warm_up(driver.closed_loop("warm-up", args.warmup, timeout))
        out["idle"] = await run.idle(args.idle_s)
        out["max"] = await run.measure("max", driver.closed_loop("max (closed loop)", args.orders, timeout))
        out["max"]["concurrency"] = args.concurrency
        rate = out["max"]["orders_per_s"] / 2
        if rate > 0:
            half = driver.open_loop("half load (open loop)", rate, args.half_load_s, timeout)
            out["half_load"] = await run.measure("half load", half)
            out["half_load"]["offered_per_s"] = round(rate, 2)
            out["half_load"]["offered_for_s"] = args.half_load_s
        else:
            out["half_load"] = report.phase([], time.perf_counter())
        out["final_state"] = await run.final_state(own.mongo_url, stock)
        out["mean_bytes"] = run.watch.mean_bytes
    finally:
        await stop(run)
    return out


async def measure_ceilings(
    result: dict[str, Any], amqp_url: str, mongo_url: str, pids: dict[str, int | None]
) -> dict[str, Any]:
    top = result["max"]
    orders = top["orders"]
    handled = top["messages"]["mean"] or float(messages.EXPECTED_HAPPY_PATH)
    store = top["cost"]["store_round_trips_per_order"]
    trips, estimated = (store["total"], False) if store else (40.0, True)  # issue 6's estimate
    log("ceilings: the broker alone, then the store alone")
    broker = await ceilings.broker_ceiling(
        amqp_url,
        max(1, round(orders * handled)),
        body_bytes=max(1, round(result["mean_bytes"])),
        prefetch=ServiceSettings.model_fields["prefetch"].default,
        broker_pid=pids["rabbitmq"],
        progress=progress,
    )
    broker["messages_per_order"] = handled
    broker["orders_per_s"] = round(broker["messages_per_s"] / handled, 1)
    db = await ceilings.store_ceiling(
        mongo_url,
        max(1, round(orders * trips)),
        mix=ceilings.store_mix(store["by_command"] if store else {}),
        store_pid=pids["store"],
        progress=progress,
    )
    db["round_trips_per_order"] = trips
    db["round_trips_estimated"] = estimated
    db["orders_per_s"] = round(db["operations_per_s"] / trips, 1)
    lower = "broker" if broker["orders_per_s"] <= db["orders_per_s"] else "store"
    low = min(broker["orders_per_s"], db["orders_per_s"])
    return {
        "broker": broker,
        "store": db,
        "lower": lower,
        "fraction": round(top["orders_per_s"] / low, 3) if low else 0.0,
    }


async def scale_out(args: argparse.Namespace, own: OwnStack, pids: dict[str, int | None]) -> dict[str, Any]:
    run = None
    try:
        run = await start(own, args.replicas, pids)
        customers, stock = await master_data(run.billing, run.inventory, args.customers, 10, 10_000)
        driver = Driver(
            run.watch, run.intake, run.logistics, customers, list(stock), args.concurrency, progress
        )
        timeout = max(120.0, args.replica_orders / 2)
        await run.warm_up(driver.closed_loop("warm-up (replicas)", 10, timeout))
        label = f"{args.replicas} replicas (closed loop)"
        figures = await run.measure("scale-out", driver.closed_loop(label, args.replica_orders, timeout))
        figures["replicas"] = args.replicas
        figures["final_state"] = await run.final_state(own.mongo_url, stock)
        return figures
    finally:
        await stop(run)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    with own_stack("bench", services=()) as own:  # broker and store; each phase starts its stacks
        store = own.store
        pids = {"store": store.popen.pid if store else None, "rabbitmq": broker_pid(own.amqp_url)}
        result: dict[str, Any] = {
            "settings": {
                "orders": args.orders,
                "concurrency": args.concurrency,
                "customers": args.customers,
                "warmup": args.warmup,
                "idle_s": args.idle_s,
                "service_env": production_timing(),
                "half_load_s": args.half_load_s,
                "replicas": args.replicas,
                "replica_orders": args.replica_orders,
                "cores": os.cpu_count(),
                "store": own.store_label,
                "broker_pid": pids["rabbitmq"],
            }
        }
        result.update(await one_process_each(args, own, pids))
        result["ceilings"] = await measure_ceilings(result, own.amqp_url, own.mongo_url, pids)
        if args.replicas > 1:
            result["replicas"] = await scale_out(args, own, pids)
    result["targets"] = report.evaluate(result)
    result["duration_s"] = round(time.perf_counter() - began, 1)
    return result


def summary(result: dict[str, Any]) -> list[str]:
    s = result["settings"]
    out = [
        f"== orders through the whole saga ({s['store']}, {s['cores']} cores; {s['customers']} customers)",
        *report.phase_lines(f"max (closed loop, {s['concurrency']} at the door)", result["max"]),
        *report.memory_lines(result["max"]["cost"]["rss_mib"]),
        *report.idle_lines(result["idle"]),
    ]
    half = result["half_load"]
    if "offered_per_s" in half:
        offered = f"{half['offered_per_s']:g} orders/s offered for {half['offered_for_s']:g} s"
        title = f"half load (open loop, {offered})"
        out += report.phase_lines(title, half)
    out += report.final_state_lines("final state (warm-up, max and half load)", result["final_state"])
    out += report.ceiling_lines(result["ceilings"], result["max"]["orders_per_s"])
    rep = result.get("replicas")
    if rep:
        title = f"scale-out ({rep['replicas']} processes of every service, competing consumers)"
        out += report.phase_lines(title, rep) + report.memory_lines(rep["cost"]["rss_mib"])
        out += report.final_state_lines("  final state (warm-up and scale-out)", rep["final_state"])
    else:
        out.append("scale-out: skipped (--replicas 0)")
    out += result["max"]["messages"]["lines"]
    out += report.target_lines(result["targets"])
    out.append(f"(whole run {result['duration_s']:g} s)")
    return out


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orders",
        type=int,
        default=int(env("BENCH_ORDERS", "300")),
        help="orders in the max (closed-loop) phase",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(env("BENCH_CONCURRENCY", "20")),
        help="orders at the door at a time in the closed loop",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=int(env("BENCH_CUSTOMERS", "20")),
        help="orders are spread over this many customers (1 shows the one-account hotspot)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=int(env("BENCH_WARMUP", "20")),
        help="untimed orders before the max phase",
    )
    parser.add_argument(
        "--half-load-s",
        type=float,
        default=float(env("BENCH_HALF_LOAD_S", "15")),
        help="seconds of arrivals at half the max rate (open loop)",
    )
    parser.add_argument(
        "--idle-s",
        type=float,
        default=float(env("BENCH_IDLE_S", "3")),
        help="seconds with no order in flight, to show the background cost (relay and timer scans)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(env("BENCH_REPLICAS", "2")),
        help="processes of every service in the scale-out phase (0 or 1 skips it)",
    )
    parser.add_argument("--replica-orders", type=int, default=int(env("BENCH_REPLICA_ORDERS", "150")))
    parser.add_argument("--out", type=Path, default=Path(".bench/saga_throughput.json"))
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args))
    except httpx.HTTPError as exc:
        sys.exit(f"benchmark failed talking to a service: {exc}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print("\n".join(summary(result)))
    print(f"(saved to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
