"""Record the replay fixtures (issue 9): every message and every stored document of a few orders'
sagas, as this version of the code writes them, for tests/unit/platform/test_replay.py.

It starts a stack of its own (tests.support.stack.own_stack: the embedded store unless
``MONGO_URL`` is set, the local broker), runs each scenario over the public HTTP API the way the
e2e tests do, and writes one directory per scenario under ``--out``:

- ``envelopes.json``: every envelope of the order on the bus, in the order the probe saw them
  (the wire format, ``Envelope.model_dump(mode="json")``);
- ``order_versions.json``: intake's order document at every version it was written with, from a
  change stream on ``orders`` (the first event of each version: the write itself, its staged
  outbox entries included), as MongoDB extended JSON (``bson.json_util``, relaxed);
- ``documents.json``: ``{"<service>.<collection>": [...]}``, every document of every service's
  database that names the order, its customer, its SKUs or its return at the end (extended JSON);
- ``scenario.json``: what was done (the people's actions with who and why), the final status and
  the commit it was recorded at.

Fixtures are never re-recorded over: later versions must keep loading what is there. A new version
of the code that writes differently records a new set next to it (``--out`` another directory, or
``--only`` a new scenario), and the test loads every set it finds. Run::

    .venv/bin/python -m tests.support.replay_record --out tests/fixtures/replay/v2 --only happy

(``--force`` overwrites an existing scenario directory; only for a set not yet committed.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import AsyncMongoClient

from devstack.processes import ROOT
from shared.registry import SERVICES
from tests.support.api import Shop
from tests.support.barriers import quiet
from tests.support.probe import BusProbe
from tests.support.stack import Stack, own_stack

FIXTURES = ROOT / "tests" / "fixtures" / "replay"
JSON_OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
SKIP_DATABASES = ("access",)  # API key hashes: platform infrastructure, not an order's data


@dataclass
class Run:
    """What a scenario did: its order, the ids its documents are found by, the people's actions."""

    shop: Shop
    order_id: str = ""
    customer_id: str = ""
    skus: list[str] = field(default_factory=list)
    return_ids: list[str] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)

    async def start(
        self, *, on_hand: int, quantity: int, sourcing: str = "buy", credit_limit: int = 10**10
    ) -> None:
        self.customer_id = await self.shop.customer(credit_limit=credit_limit)
        self.skus = [await self.shop.product(on_hand=on_hand, sourcing=sourcing, price=12_000)]
        self.order_id = (await self.shop.place(self.customer_id, [(self.skus[0], quantity)]))["order_id"]

    async def cancel(self, reason: str) -> None:
        response = await self.shop.cancel(self.order_id, reason)
        assert response.status_code == 202, response.text
        self.actions.append({"action": "cancel", "by": "shop.web", "reason": reason})

    async def approve(self) -> None:
        await self.shop.approve(self.order_id)
        self.actions.append({"action": "approve", "by": "manager.wang", "reason": "long-standing customer"})

    async def deliver(self, *, delayed: bool = False) -> None:
        await self.shop.wait_status(self.order_id, "ready_to_ship")
        await self.shop.carrier(self.order_id, "picked_up")
        await self.shop.wait_status(self.order_id, "shipped", "delivered", "completed")
        if delayed:
            await self.shop.carrier(self.order_id, "delayed")
        await self.shop.carrier(self.order_id, "delivered")
        await self.shop.wait_status(self.order_id, "completed")

    async def complete_supply(self) -> None:
        for supply in await self.shop.wait_supply_orders(self.order_id):
            await self.shop.complete_supply(supply["supply_order_id"])

    async def return_goods(self, quantity: int, result: str) -> str:
        body = {"order_id": self.order_id, "lines": [{"sku": self.skus[0], "quantity": quantity}],
                "reason": "damaged"}  # fmt: skip
        storefront = self.shop.as_("storefront")["aftersales"]
        created = await self.shop.ok(await storefront.post("/returns", json=body))
        return_id = str(created["return_id"])
        self.return_ids.append(return_id)
        warehouse = self.shop.as_("warehouse")["aftersales"]
        await self.shop.ok(await warehouse.post(f"/returns/{return_id}/inspection", json={"result": result}))
        return return_id


async def happy(run: Run) -> None:
    """Credit, stock, shipment (with a carrier's delay), commit, invoice: completed."""
    await run.start(on_hand=10, quantity=2)
    await run.deliver(delayed=True)


async def shortage(run: Run) -> None:
    """One unit on hand of three: a purchase order, the goods received, then shipped: completed."""
    await run.start(on_hand=1, quantity=3)
    await run.shop.wait_status(run.order_id, "awaiting_stock")
    await run.complete_supply()
    await run.deliver()


async def cancel_awaiting_stock(run: Run) -> None:
    """Cancelled while a production order is open: supply, stock and credit undone, newest first."""
    await run.start(on_hand=1, quantity=3, sourcing="make")
    await run.shop.wait_supply_orders(run.order_id)
    await run.shop.wait_status(run.order_id, "awaiting_stock")
    await run.cancel("customer changed their mind")
    await run.shop.wait_status(run.order_id, "cancelled")


async def cancel_ready_to_ship(run: Run) -> None:
    """Cancelled with the shipment booked: shipment, stock and credit undone."""
    await run.start(on_hand=10, quantity=1)
    await run.shop.wait_status(run.order_id, "ready_to_ship")
    await run.shop.wait_shipments(run.order_id)
    await run.cancel("ordered twice by mistake")
    await run.shop.wait_status(run.order_id, "cancelled")


async def credit_hold(run: Run) -> None:
    """Over the credit limit: on hold until the manager approves, then completed."""
    await run.start(on_hand=10, quantity=1, credit_limit=10_000)
    await run.shop.wait_status(run.order_id, "on_hold")
    await run.approve()
    await run.deliver()


async def returned(run: Run) -> None:
    """Completed, then every unit returned and passed: restocked, a credit note, returned."""
    await run.start(on_hand=10, quantity=2)
    await run.deliver()
    await run.return_goods(2, "pass")
    await run.shop.wait_status(run.order_id, "returned")


async def return_rejected(run: Run) -> None:
    """Completed, then a return that fails inspection: nothing restocked or refunded."""
    await run.start(on_hand=10, quantity=2)
    await run.deliver()
    return_id = await run.return_goods(1, "fail")
    for _ in range(150):
        found = await run.shop.ok(await run.shop.http["aftersales"].get(f"/returns/{return_id}"))
        if found["status"] == "rejected":
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"return {return_id} is {found['status']}, expected rejected")


async def shipment_lost(run: Run) -> None:
    """Picked up, then lost by the carrier: the order stays shipped, flagged for a person (R5.3)."""
    await run.start(on_hand=10, quantity=1)
    await run.shop.wait_status(run.order_id, "ready_to_ship")
    await run.shop.carrier(run.order_id, "picked_up")
    await run.shop.wait_status(run.order_id, "shipped")
    await run.shop.carrier(run.order_id, "lost")
    for _ in range(150):
        if "shipment_lost" in (await run.shop.order(run.order_id))["flags"]:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{run.order_id} was not flagged after its shipment was lost")


SCENARIOS: dict[str, Callable[[Run], Awaitable[None]]] = {
    "happy": happy,
    "shortage": shortage,
    "cancel_awaiting_stock": cancel_awaiting_stock,
    "cancel_ready_to_ship": cancel_ready_to_ship,
    "credit_hold": credit_hold,
    "returned": returned,
    "return_rejected": return_rejected,
    "shipment_lost": shipment_lost,
}


class OrderVersions:
    """Intake's order documents at every version, from a change stream opened before any order."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], prefix: str) -> None:
        self.collection = client[f"{prefix}_intake"]["orders"]
        self.by_order: dict[str, dict[int, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        stream = await self.collection.watch(full_document="updateLookup")

        async def follow() -> None:
            async with stream:
                async for event in stream:
                    doc = event.get("fullDocument")
                    if doc is not None:  # the first event of a version is its write
                        self.by_order.setdefault(str(doc["_id"]), {}).setdefault(int(doc["version"]), doc)

        self._task = asyncio.create_task(follow())

    def of(self, order_id: str) -> list[dict[str, Any]]:
        versions = self.by_order.get(order_id, {})
        missing = sorted(set(range(1, max(versions, default=0) + 1)) - set(versions))
        assert not missing, f"the change stream missed versions {missing} of {order_id}"
        return [versions[v] for v in sorted(versions)]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def documents_of(
    client: AsyncMongoClient[dict[str, Any]], prefix: str, run: Run
) -> dict[str, list[Any]]:
    """Every document of every service's database that names one of the run's ids."""
    needles = [run.order_id, run.customer_id, *run.skus, *run.return_ids]
    found: dict[str, list[Any]] = {}
    for service in SERVICES:
        db = client[f"{prefix}_{service}"]
        for name in sorted(await db.list_collection_names()):
            docs = [doc async for doc in db[name].find({})]
            mine = [d for d in docs if any(n in json_util.dumps(d) for n in needles)]
            if mine:
                found[f"{service}.{name}"] = sorted(mine, key=lambda d: str(d["_id"]))
    return found


def commit() -> str:
    """What the fixtures were recorded with (``RECORDED_AT_COMMIT`` when run from a copy of a commit)."""
    if os.environ.get("RECORDED_AT_COMMIT"):
        return os.environ["RECORDED_AT_COMMIT"]
    described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                               text=True, check=False)  # fmt: skip
    return described.stdout.strip() or "unknown"


def write(path: Path, value: Any, *, extended: bool = False) -> None:
    if extended:
        text = json_util.dumps(value, json_options=JSON_OPTIONS, indent=1)
    else:
        text = json.dumps(value, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


async def record(out: Path, only: list[str], force: bool) -> list[str]:
    names = only or list(SCENARIOS)
    for name in names:
        if (out / name).exists() and not force:
            raise SystemExit(f"{out / name} exists: fixtures are kept as they are (--force for a new set)")
    written = []
    with own_stack("replay") as own:
        stack: Stack | None = own.stack
        assert stack is not None
        probe = await BusProbe(own.amqp_url, stack.prefix).start()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(own.mongo_url, tz_aware=True)
        versions = OrderVersions(client, stack.prefix)
        await versions.start()
        shop = Shop(stack)
        try:
            for name in names:
                run = Run(shop)
                await SCENARIOS[name](run)
                await quiet(stack, probe, run.order_id, within=60)
                mine = [e for e in probe.seen if e.correlation_id == run.order_id]
                envelopes = [e.model_dump(mode="json") for e in mine]
                order = await shop.order(run.order_id)
                target = out / name
                target.mkdir(parents=True, exist_ok=True)
                write(target / "envelopes.json", envelopes)
                write(target / "order_versions.json", versions.of(run.order_id), extended=True)
                write(target / "documents.json", await documents_of(client, stack.prefix, run), extended=True)
                write(target / "scenario.json", {
                    "scenario": name, "about": (SCENARIOS[name].__doc__ or "").strip(),
                    "order_id": run.order_id, "customer_id": run.customer_id, "skus": run.skus,
                    "return_ids": run.return_ids, "actions": run.actions, "final_status": order["status"],
                    "recorded_at_commit": commit(), "message_types": sorted({e.type for e in mine}),
                })  # fmt: skip
                written.append(f"{name}: {order['status']}, {len(envelopes)} envelopes")
                print(f"recorded {written[-1]}", file=sys.stderr, flush=True)
        finally:
            await versions.stop()
            await shop.close()
            await probe.close()
            await client.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=FIXTURES / "v1")
    parser.add_argument("--only", action="append", default=[], choices=sorted(SCENARIOS))
    parser.add_argument("--force", action="store_true", help="overwrite existing scenario directories")
    args = parser.parse_args()
    asyncio.run(record(args.out, args.only, args.force))


if __name__ == "__main__":
    main()

