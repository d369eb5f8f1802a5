"""Fault run: orders through the whole saga while intake and billing are SIGKILLed (issue 10).

Starts its own stack like ``benches/saga_throughput.py`` (fresh prefixes, the embedded store
unless ``MONGO_URL`` is set), places orders, books them, then ships and delivers them in
batches; while each batch is being shipped and invoiced it SIGKILLs intake, then billing, and
restarts both (``tests.support.stack.Stack.kill`` / ``restart``, as tests/e2e/test_failures.py
does). It then polls ``GET /orders/{id}`` until every order is final (deadline and a progress
line), and prints the messages handled per order (``benches/messages.py``) with the warning
rule, and how many orders did not finish. Not part of ``make bench``; run it directly:

    .venv/bin/python -m benches.fault_run
    FAULT_ORDERS=20 FAULT_KILLS=2 .venv/bin/python -m benches.fault_run

Environment (or the matching ``--`` options): ``FAULT_ORDERS`` (100), ``FAULT_KILLS`` (kill
rounds, 3), ``FAULT_CONCURRENCY`` (10), ``FAULT_CUSTOMERS`` (10), ``FAULT_DEADLINE_S`` (300 s
for every order to become final), ``BENCH_MESSAGES_WARN_FACTOR`` (3). Figures go to
``.bench/fault_run.json``. Exit status 1 when an order did not finish, else 0 (a ``WARNING:``
about messages per order is a figure for people, not a failure).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from benches import messages
from benches.saga_throughput import place_all, progress, statuses, wait_all
from devstack.processes import SERVICES
from tests.support.api import Shop
from tests.support.probe import BusProbe
from tests.support.stack import Stack, own_stack

VICTIMS = ("intake", "billing")
FINAL = frozenset({"completed", "cancelled", "rejected", "returned", "partially_returned"})


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def post_event(shop: Shop, shipment_id: str, event: str) -> None:
    """The carrier's report; logistics is never killed, but a slow moment is retried."""
    for attempt in range(5):
        try:
            response = await shop.as_("carrier")["logistics"].post(
                f"/shipments/{shipment_id}/events", json={"type": event}
            )
            if response.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5 * (attempt + 1))


async def ship_batch(shop: Shop, shipments: dict[str, str], batch: list[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(order_id: str) -> None:
        async with gate:
            for event in ("picked_up", "delivered"):
                await post_event(shop, shipments[order_id], event)

    await asyncio.gather(*(one(o) for o in batch))


async def kill_round(stack: Stack, n: int, kills: int, delay_s: float, down_s: float) -> float:
    """SIGKILL intake, then billing, while a batch is in flight; restart both. Returns the outage."""
    await asyncio.sleep(delay_s)
    started = time.perf_counter()
    for name in VICTIMS:
        stack.kill(name)  # no clean-up: unacked deliveries come back, the outbox relay republishes
        await asyncio.sleep(0.3)
    await asyncio.sleep(down_s)
    # Stack.restart waits for /ready synchronously: keep the event loop (and the batch) going.
    await asyncio.gather(*(asyncio.to_thread(stack.restart, name) for name in VICTIMS))
    outage = time.perf_counter() - started
    log(f"kill round {n}/{kills}: {' and '.join(VICTIMS)} SIGKILLed, back after {outage:.1f} s")
    return outage


async def wait_final(shop: Shop, ids: list[str], concurrency: int, deadline_s: float) -> dict[str, str]:
    """Poll every order until each is final or the deadline passes; returns the last status seen."""
    last: dict[str, str] = {}
    deadline = time.perf_counter() + deadline_s
    while True:
        pending = [o for o in ids if last.get(o) not in FINAL]
        last.update(await statuses(shop, pending, concurrency))
        done = sum(1 for o in ids if last.get(o) in FINAL)
        progress("final status", done, len(ids))
        if done == len(ids) or time.perf_counter() > deadline:
            return last
        await asyncio.sleep(1.0)


async def ledgers(
    shop: Shop, customers: list[str], skus: list[str], ids: list[str], final: dict[str, str], start: int
) -> dict[str, object]:
    """Do stock and credit agree with what happened? Order i is 1 unit of skus[i % 5] for
    customers[i % 10] (``place_all``); every SKU started with ``start`` on hand."""
    shipped = Counter(skus[i % len(skus)] for i, o in enumerate(ids) if final.get(o) == "completed")
    stock = {sku: await shop.stock(sku) for sku in skus}
    invoiced: Counter[str] = Counter()
    for i, order_id in enumerate(ids):
        for document in await shop.invoices(order_id):
            invoiced[customers[i % len(customers)]] += int(document["total"])
    exposure = {c: int((await shop.credit(c))["exposure"]) for c in customers}
    return {
        "stock_reserved_left": sum(int(s["reserved"]) for s in stock.values()),
        "stock_on_hand_wrong": [s for s in skus if int(stock[s]["on_hand"]) != start - shipped[s]],
        "exposure_not_receivables": [c for c in customers if exposure[c] != invoiced[c]],
    }


async def run(args: argparse.Namespace) -> tuple[dict[str, object], messages.Report]:
    log(f"starting {len(SERVICES)} services")
    with own_stack("fault") as own:
        stack = own.stack
        assert stack is not None
        probe = await BusProbe(own.amqp_url, stack.prefix).start()
        shop = Shop(stack)
        log_paths = [proc.log_path for proc in stack.procs.values()]
        try:
            t0 = time.perf_counter()
            customers = [await shop.customer(credit_limit=10**12) for _ in range(args.customers)]
            skus = [await shop.product(on_hand=args.orders, price=9_900) for _ in range(5)]
            placed = await place_all(shop, customers, skus, args.orders, args.concurrency)
            ids = [o for o, _, _ in placed]
            booked = await wait_all(probe, "ShipmentCreated", ids, "reserved + booked")
            shipments = {
                e.correlation_id: e.payload["shipment_id"] for e in probe.seen if e.type == "ShipmentCreated"
            }

            # Ship in kills + 1 batches; kill while each of the first `kills` batches is in flight.
            to_ship = [o for o in ids if o in shipments]
            size = max(1, -(-len(to_ship) // (args.kills + 1)))
            batches = [to_ship[i : i + size] for i in range(0, len(to_ship), size)]
            outages = []
            for n, batch in enumerate(batches, start=1):
                shipping = asyncio.create_task(ship_batch(shop, shipments, batch, args.concurrency))
                if n <= args.kills:
                    outages.append(await kill_round(stack, n, args.kills, args.kill_delay, args.down))
                await shipping
                progress("shipped (carrier)", sum(len(b) for b in batches[:n]), len(to_ship))
            for n in range(len(batches) + 1, args.kills + 1):  # fewer orders than rounds
                outages.append(await kill_round(stack, n, args.kills, 0.0, args.down))

            final = await wait_final(shop, ids, args.concurrency, args.deadline)
            elapsed = time.perf_counter() - t0
            balance = await ledgers(shop, customers, skus, ids, final, start=args.orders)
            await messages.settle(log_paths)
        finally:
            await shop.close()
            await probe.close()
        # Restarts append to the same files, so each holds every incarnation of the service.
        by_status = Counter(final.get(o, "unknown") for o in ids)
        completed = [o for o in ids if final.get(o) == "completed"]
        unfinished = [o for o in ids if final.get(o) not in FINAL]
        report = messages.summarize(
            messages.read_counts(log_paths), completed=completed, placed=ids, factor=messages.warn_factor()
        )
        result: dict[str, object] = {
            "orders": args.orders,
            "concurrency": args.concurrency,
            "customers": args.customers,
            "store": own.store_label,
            "kill_rounds": len(outages),
            "killed": list(VICTIMS),
            "outage_s": [round(o, 1) for o in outages],
            "booked": len(booked),
            "statuses": dict(by_status.most_common()),
            "not_finished": len(unfinished),
            "not_finished_orders": unfinished[:20],
            "elapsed_s": round(elapsed, 1),
            "ledgers": balance,
            "messages_handled": report.as_dict(),
        }
        return result, report


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=int(env("FAULT_ORDERS", "100")))
    parser.add_argument("--kills", type=int, default=int(env("FAULT_KILLS", "3")), help="kill rounds")
    parser.add_argument("--concurrency", type=int, default=int(env("FAULT_CONCURRENCY", "10")))
    parser.add_argument("--customers", type=int, default=int(env("FAULT_CUSTOMERS", "10")))
    parser.add_argument("--deadline", type=float, default=float(env("FAULT_DEADLINE_S", "300")))
    parser.add_argument("--kill-delay", type=float, default=0.5, help="s into a batch before the kill")
    parser.add_argument("--down", type=float, default=1.0, help="s both stay down before the restart")
    parser.add_argument("--out", type=Path, default=Path(".bench/fault_run.json"))
    args = parser.parse_args()
    try:
        result, report = asyncio.run(run(args))
    except httpx.HTTPError as exc:
        sys.exit(f"fault run failed talking to a service: {exc}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "messages_handled"}, indent=2))
    print("\n".join(report.lines()))
    unfinished = result["not_finished"]
    print(f"orders not finished: {unfinished} of {args.orders} (statuses: {result['statuses']})")
    print(f"ledgers: {result['ledgers']}")
    print(f"(saved to {args.out})", file=sys.stderr)
    if unfinished:
        sys.exit(1)


if __name__ == "__main__":
    main()
