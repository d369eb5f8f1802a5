"""A stack with N processes of every service, and the final-state check of a benchmark run.

``Deployment`` wraps ``tests.support.stack.Stack``: the stack starts the first process of
each service as usual; every further replica is one more ``python -m services.<name>`` on
its own port with the same bus and database prefixes, so the replicas are competing
consumers on the same quorum queues and share one database per service. Other services
reach a service at its first replica's URL; the bench spreads its own HTTP calls (placing
orders, the carrier's events) over every replica.

``final_state`` reads what a run left behind and says whether anything was lost or doubled:
every order completed once, one invoice and one shipment per order (counted in the store,
where a duplicate would show, and in the ids the bus carried), stock reserved back to 0 and
``on_hand`` down by exactly the units shipped.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from benches.watch import Watch
from devstack.processes import Proc, free_port, start_service, wait_ready
from tests.support.stack import Stack


@dataclass
class Deployment:
    stack: Stack
    replicas: int = 1
    extra: dict[str, list[Proc]] = field(default_factory=dict)

    def start(self, names: Iterable[str]) -> Deployment:
        names = list(names)
        for name in names:
            self.stack.ports.setdefault(name, free_port())
        env = self.stack.env  # every replica finds the others at the first replica's URL
        log_root = self.stack.log_dir / self.stack.prefix
        for name in names:
            self.extra[name] = [
                start_service(name, free_port(), env, log_root / f"replica{k}")
                for k in range(2, self.replicas + 1)
            ]
        self.stack.start(names)
        for procs in self.extra.values():
            for proc in procs:
                wait_ready(proc)
        return self

    def procs(self) -> dict[str, Proc]:
        """Every service process: ``intake``, ``intake#2`` ..."""
        out: dict[str, Proc] = {}
        for name, first in self.stack.procs.items():
            out[name] = first
            for k, proc in enumerate(self.extra.get(name, []), start=2):
                out[f"{name}#{k}"] = proc
        return out

    def urls(self, name: str) -> list[str]:
        return [self.stack.url(name), *(p.url for p in self.extra.get(name, []))]

    def log_paths(self) -> list[Path]:
        return [p.log_path for p in self.procs().values()]

    def stop(self, grace_s: float = 15) -> None:
        """SIGTERM every process at once, wait, then let the stack remove its topology."""
        procs = [*self.stack.procs.values(), *(p for extra in self.extra.values() for p in extra)]
        for proc in procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stack.stop()


def service_of(process_name: str) -> str:
    return process_name.split("#", 1)[0]


async def final_state(
    mongo_url: str,
    prefix: str,
    lines: Mapping[str, tuple[str, int]],
    stock_before: Mapping[str, int],
    inventory: httpx.AsyncClient,
    watch: Watch,
) -> dict[str, Any]:
    """``lines``: order id -> (sku, quantity) of every order the run placed; ``stock_before``:
    each SKU's ``on_hand`` before the run (the SKUs must be used by these orders only)."""
    ids = list(lines)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=10_000)
    try:
        orders = {
            doc["_id"]: doc
            async for doc in client[f"{prefix}_intake"]["orders"].find(
                {"_id": {"$in": ids}}, {"status": 1, "invoice_ids": 1, "shipment_id": 1}
            )
        }
        invoices: Counter[str] = Counter()
        async for doc in client[f"{prefix}_billing"]["invoices"].find({"order_id": {"$in": ids}}):
            if doc.get("kind") == "invoice":
                invoices[doc["order_id"]] += 1
        shipments: Counter[str] = Counter()
        async for doc in client[f"{prefix}_logistics"]["shipments"].find({"order_id": {"$in": ids}}):
            if not doc.get("tombstone"):
                shipments[doc["order_id"]] += 1
    finally:
        await client.close()

    statuses = Counter(str(orders[o].get("status")) if o in orders else "missing" for o in ids)
    not_completed = [o for o in ids if orders.get(o, {}).get("status") != "completed"]
    on_order = {o: len(orders.get(o, {}).get("invoice_ids") or []) for o in ids}
    problems: list[str] = []

    def doubled(name: str, counts: Mapping[str, int]) -> None:
        wrong = [o for o in ids if counts.get(o, 0) != 1]
        if wrong:
            shown = ", ".join(f"{o} x{counts.get(o, 0)}" for o in wrong[:5])
            problems.append(f"{len(wrong)} orders without exactly one {name}: {shown}")

    if not_completed:
        problems.append(f"{len(not_completed)} orders not completed: {', '.join(not_completed[:5])}")
    doubled("invoice in billing", invoices)
    doubled("shipment in logistics", shipments)
    doubled("invoice id on the order", on_order)
    doubled("InvoiceIssued invoice id on the bus", {o: len(watch.ids("InvoiceIssued", o)) for o in ids})
    doubled("ShipmentCreated shipment id on the bus", {o: len(watch.ids("ShipmentCreated", o)) for o in ids})

    shipped: Counter[str] = Counter()
    for order_id, (sku, qty) in lines.items():
        if watch.seen("ShipmentDispatched", order_id) is not None:
            shipped[sku] += qty
    stock: dict[str, dict[str, int]] = {}
    for sku, before in stock_before.items():
        response = await inventory.get(f"/stock/{sku}")
        doc = response.json() if response.status_code == 200 else {}
        on_hand, reserved = int(doc.get("on_hand", -1)), int(doc.get("reserved", -1))
        stock[sku] = {"before": before, "shipped": shipped[sku], "on_hand": on_hand, "reserved": reserved}
        if reserved != 0 or on_hand != before - shipped[sku]:
            problems.append(
                f"stock {sku}: on_hand {on_hand} (expected {before} - {shipped[sku]} shipped), "
                f"reserved {reserved}"
            )
    return {
        "orders": len(ids),
        "statuses": dict(statuses.most_common()),
        "completed": statuses.get("completed", 0),
        "units_shipped": sum(shipped.values()),
        "stock": stock,
        "ok": not problems,
        "problems": problems,
    }
