"""What a phase of the benchmark cost: CPU and memory per process (/proc), store round trips per
service (``GET /ops/metrics``, ``shared/metrics.py``), and how busy the whole machine was.

``snapshot`` before and after a phase, ``cost`` of the difference divided by the orders.
The machine's busy share (``/proc/stat``) covers everything on it, other users included; when
it is well above what the measured processes used, the figures were disturbed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benches import procstat
from benches.replicas import service_of

BROKER = "rabbitmq"  # the one process whose children (Erlang's helpers) count with it


@dataclass
class Snapshot:
    at: float
    procs: dict[str, procstat.Sample | None]
    store: dict[str, Counter[str] | None]  # service process -> commands started so far
    machine: tuple[int, int] | None  # (busy, total) jiffies over all cores


def machine_jiffies() -> tuple[int, int] | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


async def store_counts(http: httpx.AsyncClient, url: str) -> Counter[str] | None:
    try:
        response = await http.get(f"{url}/ops/metrics", timeout=10)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None  # shared/metrics.py not wired into shared/service.py
    return Counter(response.json()["store"]["commands"])


async def snapshot(
    http: httpx.AsyncClient, pids: Mapping[str, int | None], service_urls: Mapping[str, str]
) -> Snapshot:
    names = list(service_urls)
    counts = await asyncio.gather(*(store_counts(http, service_urls[n]) for n in names))
    return Snapshot(
        at=time.perf_counter(),
        procs=procstat.sample_all(pids, with_descendants=(BROKER,)),
        store=dict(zip(names, counts, strict=True)),
        machine=machine_jiffies(),
    )


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def cost(before: Snapshot, after: Snapshot, orders: int, *, load_generator: str = "bench") -> dict[str, Any]:
    """Per order: CPU-ms per process and their sum (the load generator apart), store round trips
    per service (replicas summed) and per command; memory per process at the end and its peak."""
    per = max(orders, 1)
    cpu: dict[str, float | None] = {}
    for name in after.procs:
        delta = procstat.cpu_delta_s(before.procs.get(name), after.procs[name])
        cpu[name] = _round(None if delta is None else delta * 1000 / per)
    measured = {n: v for n, v in cpu.items() if n != load_generator}
    known = [v for v in measured.values() if v is not None]
    total = round(sum(known), 2) if known else None

    by_service: Counter[str] = Counter()
    by_command: Counter[str] = Counter()
    by_service_command: dict[str, Counter[str]] = {}
    missing = []
    for name, now in after.store.items():
        then = before.store.get(name)
        if now is None or then is None:
            missing.append(name)
            continue
        diff = now - then
        by_service[service_of(name)] += sum(diff.values())
        by_command.update(diff)
        by_service_command.setdefault(service_of(name), Counter()).update(diff)
    store: dict[str, Any] | None = None
    if after.store and not missing:
        store = {
            "total": round(sum(by_service.values()) / per, 2),
            "by_service": {s: round(n / per, 2) for s, n in by_service.most_common()},
            "by_command": {c: round(n / per, 2) for c, n in by_command.most_common()},
            "by_service_command": {
                s: {c: round(n / per, 2) for c, n in cmds.most_common()}
                for s, cmds in by_service_command.items()
            },
        }

    seconds = after.at - before.at
    machine: dict[str, float] | None = None
    if before.machine and after.machine and after.machine[1] > before.machine[1]:
        busy = (after.machine[0] - before.machine[0]) / (after.machine[1] - before.machine[1])
        run_ms = sum(v for v in cpu.values() if v is not None) * per  # the load generator included
        ours = run_ms / 1000 / seconds / (os.cpu_count() or 1) if seconds > 0 else 0.0
        machine = {"busy": round(busy, 3), "this_run": round(ours, 3), "cores": os.cpu_count() or 1}
    memory = {
        name: {"rss": round(s.rss_mib, 1), "peak": round(s.hwm_mib, 1)} if s else None
        for name, s in after.procs.items()
    }
    return {
        "cpu_ms_per_order": cpu,
        "cpu_ms_per_order_total": total,
        "cpu_unmeasured": [n for n, v in measured.items() if v is None],
        "store_round_trips_per_order": store,
        "store_metrics_missing": missing,
        "rss_mib": memory,
        "machine": machine,
        "seconds": round(seconds, 2),
    }


def idle(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """What the processes spend per second with no order in flight (relay and timer scans ...)."""
    seconds = max(after.at - before.at, 1e-9)
    spent = cost(before, after, 1)
    cpu = {n: None if v is None else round(v / seconds, 2) for n, v in spent["cpu_ms_per_order"].items()}
    total = spent["cpu_ms_per_order_total"]
    store = spent["store_round_trips_per_order"]
    return {
        "seconds": round(seconds, 2),
        "cpu_ms_per_s": cpu,
        "cpu_ms_per_s_total": None if total is None else round(total / seconds, 2),
        "store_round_trips_per_s": None if store is None else round(store["total"] / seconds, 2),
        "store_round_trips_per_s_by_service": None
        if store is None
        else {s: round(n / seconds, 2) for s, n in store["by_service"].items()},
    }
