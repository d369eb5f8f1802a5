"""Benchmark: orders through the whole saga on the real broker and store (``make bench``).

Prints figures only; nothing here asserts a time (speed targets are read by people).
Starts its own stack with fresh prefixes, so it can run next to ``make run``.
After the run it counts the messages each order handled from the services' logs
(``benches/messages.py``) and prints a ``WARNING:`` line naming the worst orders when one
handled more than ``BENCH_MESSAGES_WARN_FACTOR`` (default 3) x the happy-path count.

    python -m benches.saga_throughput --orders 200 --concurrency 20 --customers 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benches import messages
from devstack.processes import SERVICES, ensure_rabbitmq, free_port, start_store
from tests.support.api import Shop
from tests.support.probe import BusProbe
from tests.support.stack import Stack


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


async def run(
    orders: int, concurrency: int, customer_count: int
) -> tuple[dict[str, object], messages.Report]:
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(amqp_url)
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        work = Path(tmp)
        store = None
        mongo_url = os.environ.get("MONGO_URL")
        if not mongo_url:
            store = start_store(work / "store", free_port(), work / "logs")
            mongo_url = store.url
        stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work / "logs")
        print(
            f"starting {len(SERVICES)} services (store: {'embedded' if store else mongo_url})",
            file=sys.stderr,
        )
        stack.start(SERVICES)
        probe = await BusProbe(amqp_url, stack.prefix).start()
        shop = Shop(stack)
        try:
            customers = [await shop.customer(credit_limit=10**12) for _ in range(customer_count)]
            skus = [await shop.product(on_hand=orders, price=9_900) for _ in range(10)]

            t0 = time.perf_counter()
            placed = await place_all(shop, customers, skus, orders, concurrency)
            ids = [o for o, _, _ in placed]
            booked = await wait_all(probe, "ShipmentCreated", ids, "reserved + booked")
            t_booked = time.perf_counter() - t0

            t1 = time.perf_counter()
            shipments: dict[str, str] = {}
            for env in probe.seen:
                if env.type == "ShipmentCreated":
                    shipments[env.correlation_id] = env.payload["shipment_id"]
            gate = asyncio.Semaphore(concurrency)

            async def ship(order_id: str) -> None:
                async with gate:
                    for event in ("picked_up", "delivered"):
                        await shop.http["logistics"].post(
                            f"/shipments/{shipments[order_id]}/events", json={"type": event}
                        )

            await asyncio.gather(*(ship(o) for o in ids if o in shipments))
            invoiced = await wait_all(probe, "InvoiceIssued", ids, "shipped + invoiced")
            t_invoiced = time.perf_counter() - t1

            submitted = {o: s for o, s, _ in placed}
            to_booked = [booked[o] - submitted[o] for o in booked]
            post_latency = [lat for _, _, lat in placed]
            memory = {name: round(rss_mib(proc.popen.pid), 1) for name, proc in stack.procs.items()}
            if store is not None:
                memory["store (nx-27017)"] = round(rss_mib(store.popen.pid), 1)
            result: dict[str, object] = {
                "orders": orders,
                "concurrency": concurrency,
                "customers": customer_count,
                "store": "embedded nx-27017" if store else "external",
                "post_orders_ms": {
                    "p50": pct(post_latency, 50) * 1e3,
                    "p95": pct(post_latency, 95) * 1e3,
                    "p99": pct(post_latency, 99) * 1e3,
                },
                "placed_to_booked_s": {
                    "p50": pct(to_booked, 50),
                    "p95": pct(to_booked, 95),
                    "max": max(to_booked, default=0.0),
                },
                "orders_booked_per_s": len(booked) / t_booked if t_booked else 0.0,
                "orders_shipped_and_invoiced_per_s": len(invoiced) / t_invoiced if t_invoiced else 0.0,
                "completed": {"booked": len(booked), "invoiced": len(invoiced)},
                "rss_mib": memory,
                "mean_post_ms": statistics.fmean(post_latency) * 1e3 if post_latency else 0.0,
            }
            # Untimed: let the last replies land, then ask intake which orders completed.
            log_paths = [proc.log_path for proc in stack.procs.values()]
            await messages.settle(log_paths)
            completed = [o for o, s in (await statuses(shop, ids, concurrency)).items() if s == "completed"]
            result["orders_completed"] = len(completed)
        finally:
            await shop.close()
            await probe.close()
            stack.stop()
            if store is not None:
                store.stop()
        # Read once every service has stopped (and flushed), before the temporary directory goes.
        report = messages.summarize(
            messages.read_counts(log_paths), completed=completed, placed=ids, factor=messages.warn_factor()
        )
        result["messages_handled"] = report.as_dict()
        return result, report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=int(os.environ.get("BENCH_ORDERS", "200")))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "20")))
    parser.add_argument(
        "--customers",
        type=int,
        default=int(os.environ.get("BENCH_CUSTOMERS", "20")),
        help="orders are spread over this many customers (1 shows the one-account hotspot)",
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/saga_throughput.json"))
    args = parser.parse_args()
    try:
        result, report = asyncio.run(run(args.orders, args.concurrency, args.customers))
    except httpx.HTTPError as exc:
        sys.exit(f"benchmark failed talking to a service: {exc}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("\n".join(report.lines()))  # last, so a WARNING is the first thing a reader sees
    print(f"(saved to {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
