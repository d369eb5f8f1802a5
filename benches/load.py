"""Orders driven through the whole saga, closed loop (a fixed concurrency at the door) or open
loop (a fixed arrival rate, each arrival on its timer whatever the earlier orders are doing).

One order: POST /orders (to any intake replica), wait for its ``ShipmentCreated`` on the bus,
the carrier posts ``picked_up`` then ``delivered`` (to any logistics replica), wait for its
``InvoiceIssued``. The POST latency runs from the arrival to the 201 (in the open loop the
arrival is the scheduled time, so a slow door cannot hide its own backlog); the saga latency
from the arrival to the ``InvoiceIssued`` seen on the bus (it includes the carrier's two
HTTP calls, made as soon as the shipment exists).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import httpx

from benches.watch import Watch

CARRIER_EVENTS = ("picked_up", "delivered")


@dataclass
class Timing:
    index: int
    sku: str
    quantity: int
    arrival: float = 0.0
    order_id: str | None = None
    posted: float | None = None
    invoiced: float | None = None
    error: str | None = None

    @property
    def post_s(self) -> float | None:
        return None if self.posted is None else self.posted - self.arrival

    @property
    def saga_s(self) -> float | None:
        return None if self.invoiced is None else self.invoiced - self.arrival


def order_body(customer_id: str, sku: str, quantity: int) -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "channel": "storefront",
        # A room per order: the same lines to one address again soon is a possible duplicate (R1.6)
        # that waits for a reviewer (R2.1); the bench measures the saga, not the review queue.
        "delivery_address": f"Shanghai, Pudong, 88 Century Ave, Rm {uuid.uuid4().hex[:6]}",
        "required_by": (date.today() + timedelta(days=14)).isoformat(),  # R1.4
        "contact": {"name": "Li Lei", "phone": "13800138000"},
        "lines": [{"sku": sku, "quantity": quantity}],
    }


class Driver:
    def __init__(
        self,
        watch: Watch,
        intake: Sequence[httpx.AsyncClient],
        logistics: Sequence[httpx.AsyncClient],
        customers: Sequence[str],
        skus: Sequence[str],
        concurrency: int,
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.watch, self.intake, self.logistics = watch, intake, logistics
        self.customers, self.skus = customers, skus
        self.concurrency = concurrency
        self.progress = progress
        self.serial = 0  # spreads customers and SKUs over every phase of a run

    async def _one(
        self, t: Timing, door: asyncio.Semaphore | None, carrier: asyncio.Semaphore, deadline: float
    ) -> None:
        body = order_body(self.customers[t.index % len(self.customers)], t.sku, t.quantity)
        intake = self.intake[t.index % len(self.intake)]
        step = "POST /orders"
        try:
            if door is not None:  # closed loop: `concurrency` orders at the door at a time
                async with door:
                    t.arrival = time.perf_counter()
                    response = await intake.post("/orders", json=body)
            else:
                response = await intake.post("/orders", json=body)
            t.posted = time.perf_counter()
            if response.status_code != 201:
                t.error = f"POST /orders answered {response.status_code}: {response.text[:200]}"
                return
            order_id = t.order_id = str(response.json()["order_id"])
            step = "ShipmentCreated"
            await self.watch.wait("ShipmentCreated", order_id, deadline - time.perf_counter())
            shipment_id = sorted(self.watch.ids("ShipmentCreated", order_id))[0]
            logistics = self.logistics[t.index % len(self.logistics)]
            async with carrier:
                for event in CARRIER_EVENTS:
                    step = f"carrier {event}"
                    reply = await logistics.post(f"/shipments/{shipment_id}/events", json={"type": event})
                    if reply.status_code >= 300:
                        t.error = f"carrier {event} answered {reply.status_code}: {reply.text[:200]}"
                        return
            step = "InvoiceIssued"
            t.invoiced = await self.watch.wait("InvoiceIssued", order_id, deadline - time.perf_counter())
        except TimeoutError:
            t.error = f"timed out waiting for {step}"
        except (httpx.HTTPError, IndexError, KeyError, ValueError) as exc:
            t.error = f"{step}: {exc!r}"

    def _timings(self, n: int) -> list[Timing]:
        out = []
        for _ in range(n):
            i = self.serial
            self.serial += 1
            out.append(Timing(index=i, sku=self.skus[i % len(self.skus)], quantity=1))
        return out

    async def _run(
        self, label: str, timings: list[Timing], arrivals: list[float] | None, within_s: float
    ) -> list[Timing]:
        door = asyncio.Semaphore(self.concurrency) if arrivals is None else None
        carrier = asyncio.Semaphore(self.concurrency)
        done = 0
        deadline = time.perf_counter() + within_s

        async def one(t: Timing) -> None:
            nonlocal done
            await self._one(t, door, carrier, deadline)
            done += 1
            self.progress(label, done, len(timings))

        tasks = []
        for k, t in enumerate(timings):
            if arrivals is not None:  # open loop: every arrival on its own timer
                t.arrival = arrivals[k]
                await asyncio.sleep(max(0.0, t.arrival - time.perf_counter()))
            tasks.append(asyncio.create_task(one(t)))
        await asyncio.gather(*tasks)
        return timings

    async def closed_loop(self, label: str, orders: int, within_s: float) -> list[Timing]:
        return await self._run(label, self._timings(orders), None, within_s)

    async def open_loop(self, label: str, rate: float, seconds: float, within_s: float) -> list[Timing]:
        """``rate`` arrivals per second for ``seconds`` (at least 10 orders)."""
        timings = self._timings(max(10, round(rate * seconds)))
        start = time.perf_counter() + 0.05
        arrivals = [start + k / rate for k in range(len(timings))]
        return await self._run(label, timings, arrivals, seconds + within_s)
