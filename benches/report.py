"""Figures of a benchmark run as lines for people, and the targets of issue 6 §4 beside them.

The targets are printed, never asserted: a missed one is a ``target missed: ...`` line naming
the figure, with what bounds it (the processes that spend the most, the ceiling it runs under).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from benches.load import Timing

# name -> (limit, "max" | "min", unit)
TARGETS: dict[str, tuple[float, str, str]] = {
    "CPU per order, summed over all processes": (15.0, "max", "ms"),
    "store round trips per order": (15.0, "max", ""),
    "orders/s end to end": (90.0, "min", ""),
    "POST /orders p99 at half load": (50.0, "max", "ms"),
    "RSS per service (peak)": (100.0, "max", "MiB"),
}


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def latency_ms(values: Sequence[float]) -> dict[str, float]:
    return {
        k: round(pct(values, p) * 1000, 1) for k, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    }


def phase(timings: Sequence[Timing], started: float) -> dict[str, Any]:
    """Throughput and latencies of one phase; ``started`` is when its first order could arrive."""
    done = [t for t in timings if t.invoiced is not None]
    ended = max((t.invoiced for t in done if t.invoiced is not None), default=started)
    seconds = ended - started
    errors = Counter((t.error or "").split(":")[0] for t in timings if t.error)
    return {
        "orders": len(timings),
        "completed": len(done),
        "seconds": round(seconds, 2),
        "orders_per_s": round(len(done) / seconds, 2) if seconds > 0 else 0.0,
        "post_ms": latency_ms([s for t in timings if (s := t.post_s) is not None]),
        "saga_ms": latency_ms([s for t in done if (s := t.saga_s) is not None]),
        "errors": dict(errors.most_common()),
        "first_errors": [f"{t.order_id or f'#{t.index}'}: {t.error}" for t in timings if t.error][:3],
    }


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _num(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:g}{(' ' + unit) if unit else ''}"


def _top(values: dict[str, float | None], n: int = 10) -> str:
    known = sorted(((v, k) for k, v in values.items() if v is not None), reverse=True)
    total = sum(v for v, _ in known) or 1.0
    shown = ", ".join(f"{k} {v:g} ({v / total:.0%})" for v, k in known[:n])
    missing = [k for k, v in values.items() if v is None]
    return shown + (f", {', '.join(missing)} n/a" if missing else "")


def phase_lines(title: str, figures: dict[str, Any]) -> list[str]:
    post, saga = figures["post_ms"], figures["saga_ms"]
    out = [
        f"{title}: {figures['completed']}/{figures['orders']} orders invoiced in {figures['seconds']:g} s "
        f"= {figures['orders_per_s']:g} orders/s end to end",
        f"  POST /orders p50 {_ms(post['p50'])}, p99 {_ms(post['p99'])} (max {_ms(post['max'])}); "
        f"saga POST -> InvoiceIssued p50 {_ms(saga['p50'])}, p99 {_ms(saga['p99'])}",
    ]
    if figures["errors"]:
        out.append(f"  NOT FINISHED: {figures['errors']}; e.g. {'; '.join(figures['first_errors'])}")
    cost = figures.get("cost")
    if cost:
        bench = cost["cpu_ms_per_order"].get("bench")
        measured = {k: v for k, v in cost["cpu_ms_per_order"].items() if k != "bench"}
        out.append(
            f"  CPU ms per order: {_num(cost['cpu_ms_per_order_total'])} in all"
            f"{' (without ' + ', '.join(cost['cpu_unmeasured']) + ')' if cost['cpu_unmeasured'] else ''}"
            f" = {_top(measured)}; load generator {_num(bench)} (not counted)"
        )
        store = cost["store_round_trips_per_order"]
        if store is None:
            out.append(
                "  store round trips per order: n/a (GET /ops/metrics not answered: shared/metrics.py wired?)"
            )
        else:
            out.append(
                f"  store round trips per order: {store['total']:g} = "
                + ", ".join(f"{s} {n:g}" for s, n in store["by_service"].items())
            )
            out.append("    by command: " + ", ".join(f"{c} {n:g}" for c, n in store["by_command"].items()))
        machine = cost.get("machine")
        if machine:
            out.append(
                f"  machine: {machine['busy']:.0%} busy over {machine['cores']} cores, "
                f"{machine['this_run']:.0%} of it by this run's processes"
                + (
                    "  (other load on the machine: figures disturbed)"
                    if machine["busy"] - machine["this_run"] > 0.1
                    else ""
                )
            )
    messages = figures.get("messages")
    if messages:
        per = messages["per_order"]
        out.append(
            f"  messages per order: handled median {per['median']:g}, p99 {per['p99']}, max {per['max']} "
            f"(mean {messages['mean']:g}); published mean {messages['published_mean']:g}, "
            f"{messages['mean_bytes']:.0f} bytes each; retried {messages['retried']}, "
            f"parked {messages['parked']}"
        )
        if per["max"] > per["median"] and messages["worst"]:
            worst = messages["worst"][0]
            extra = {t: n for t, n in worst["by_type"].items() if n > 1}
            out.append(
                f"    most: {worst['order_id']} handled {worst['messages']}"
                + (f" ({', '.join(f'{t} x{n}' for t, n in extra.items())})" if extra else "")
            )
    return out


def idle_lines(idle: dict[str, Any]) -> list[str]:
    trips = idle["store_round_trips_per_s"]
    return [
        f"  idle ({idle['seconds']:g} s, no order in flight): "
        f"CPU {_num(idle['cpu_ms_per_s_total'])} ms/s in all "
        f"= {_top({k: v for k, v in idle['cpu_ms_per_s'].items() if k != 'bench'}, 4)}; "
        f"store round trips {_num(trips)}/s (outbox relay and timer scans; in the per-order figures too)",
        "    (RabbitMQ's CPU counts every client of the broker: other runs on it add to every figure)",
    ]


def final_state_lines(title: str, fs: dict[str, Any]) -> list[str]:
    if fs["ok"]:
        return [
            f"{title}: OK: {fs['completed']}/{fs['orders']} orders completed, each with one invoice and one "
            f"shipment; stock reserved 0 and on_hand down by exactly the {fs['units_shipped']} units shipped"
        ]
    indent = " " * (len(title) - len(title.lstrip()) + 2)
    return [f"{title}: WRONG ({fs['statuses']})", *(indent + p for p in fs["problems"])]


def memory_lines(memory: dict[str, dict[str, float] | None]) -> list[str]:
    cells = [
        f"{n} {m['rss']:g}/{m['peak']:g}" if m else f"{n} n/a" for n, m in memory.items() if n != "bench"
    ]
    return ["  RSS MiB (now/peak): " + ", ".join(cells)]


def ceiling_lines(c: dict[str, Any], achieved: float) -> list[str]:
    b, d = c["broker"], c["store"]
    broker_cpu = b["broker_cpu_ms_per_message"]
    store_cpu = d["store_cpu_ms_per_operation"]
    mix = ", ".join(f"{k} {v:.0%}" for k, v in d["mix"].items())
    estimated = " (estimated: /ops/metrics not answered)" if d["round_trips_estimated"] else ""
    return [
        "ceilings (this machine, this run, services stopped):",
        f"  broker alone: {b['messages']} confirmed persistent messages of {b['body_bytes']} bytes through "
        f"{b['queues']} quorum queues, manual acks: {b['messages_per_s']:.0f} msgs/s "
        f"= {b['orders_per_s']:g} orders/s at {b['messages_per_order']:g} messages handled per order "
        f"(RabbitMQ {_num(None if broker_cpu is None else round(broker_cpu, 3))} CPU-ms per message)",
        f"  store alone: {d['operations']} operations ({mix}): {d['operations_per_s']:.0f} ops/s "
        f"= {d['orders_per_s']:g} orders/s at {d['round_trips_per_order']:g} round trips per order"
        f"{estimated} "
        f"(store {_num(None if store_cpu is None else round(store_cpu, 3))} CPU-ms per operation)",
        f"  orders/s end to end {achieved:g} = {c['fraction']:.0%} of the lower ceiling ({c['lower']} alone)",
    ]


def evaluate(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the run's figure, whether it was met, and what bounds it when not."""
    top, half = result["max"], result["half_load"]
    cost = top.get("cost", {})
    store = cost.get("store_round_trips_per_order")
    # VmHWM is the peak over the process's life: the last phase's reading covers both.
    memory = (half.get("cost") or cost).get("rss_mib", {})
    services = {n: m for n, m in memory.items() if n not in ("bench", "store", "rabbitmq")}
    peak_name, peak = max(
        ((n, m["peak"]) for n, m in services.items() if m), key=lambda x: x[1], default=("", None)
    )
    ceilings = result.get("ceilings", {})
    values: dict[str, tuple[float | None, str]] = {
        "CPU per order, summed over all processes": (
            cost.get("cpu_ms_per_order_total"),
            "most CPU per order: "
            + _top({k: v for k, v in cost.get("cpu_ms_per_order", {}).items() if k != "bench"}, 4),
        ),
        "store round trips per order": (
            None if store is None else store["total"],
            ""
            if store is None
            else "most round trips: "
            + "; ".join(
                f"{s} {n:g} ({_top(store['by_service_command'][s], 3)})"
                for s, n in list(store["by_service"].items())[:3]
            ),
        ),
        "orders/s end to end": (
            top["orders_per_s"],
            f"{ceilings['fraction']:.0%} of the lower ceiling ({ceilings['lower']} alone "
            f"{ceilings[ceilings['lower']]['orders_per_s']:g} orders/s)"
            if ceilings.get("lower")
            else "",
        ),
        "POST /orders p99 at half load": (
            half["post_ms"]["p99"] if half["orders"] else None,
            f"p50 {_ms(half['post_ms']['p50'])} at {half.get('offered_per_s', 0):g} orders/s offered; "
            f"intake {_num(half.get('cost', {}).get('cpu_ms_per_order', {}).get('intake'), 'ms')} "
            "CPU per order",
        ),
        "RSS per service (peak)": (peak, f"highest: {peak_name}"),
    }
    rows = []
    for name, (limit, kind, unit) in TARGETS.items():
        value, bound = values[name]
        met = None if value is None else (value <= limit if kind == "max" else value >= limit)
        note = ""
        if name.startswith("CPU") and cost.get("cpu_unmeasured"):
            note = f"leaves out {', '.join(cost['cpu_unmeasured'])} (n/a): a lower bound"
        rows.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "kind": kind,
                "unit": unit,
                "met": met,
                "bound": bound,
                "note": note,
            }
        )
    return rows


def target_lines(rows: list[dict[str, Any]]) -> list[str]:
    out = ["targets (issue 6 §4; figures for people, never asserted in tests):"]
    for r in rows:
        sign = "<=" if r["kind"] == "max" else ">="
        verdict = "n/a" if r["met"] is None else ("met" if r["met"] else "MISSED")
        out.append(
            f"  {r['target']:<42} {_num(r['value'], r['unit']):>12}   "
            f"target {sign} {r['limit']:g} {r['unit']:<4} {verdict}"
        )
    for r in rows:
        if r["met"] is False:
            sign = ">" if r["kind"] == "max" else "<"
            out.append(
                f"target missed: {r['target']} {_num(r['value'], r['unit'])} "
                f"{sign} {_num(r['limit'], r['unit'])}{'; ' + r['bound'] if r['bound'] else ''}"
            )
        elif r["met"] is None:
            out.append(f"target not measured: {r['target']} (n/a)")
        if r["note"]:
            out.append(f"note: {r['target']} {r['note']}")
    return out
