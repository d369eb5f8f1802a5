"""Messages handled per order, counted from the services' JSON logs of a run (issue 10).

Every service logs one ``"message handled"`` line per message its handler finished and acked
(``shared/bus/bus.py``), inside ``log_context(order_id=..., message_id=..., type=...)``, so the
line carries ``service``, ``order_id`` and ``type`` (``shared/logs.py``). Counting those lines per
order shows how much work an order really cost: duplicates, redeliveries after a crash and
outbox republishes all add lines; a message lost for good removes one.

    from benches.messages import read_counts, summarize, warn_factor
    report = summarize(read_counts(paths), completed=ids_of_completed_orders, factor=warn_factor())
    print("\\n".join(report.lines()))

The warning rule: any order that handled more than ``factor`` x the happy-path count (env
``BENCH_MESSAGES_WARN_FACTOR``, default 3) is named in a ``WARNING:`` line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLED = "message handled"
RETRIED = "handler failed, retrying"  # prefix: the line goes on "in <n> ms"
PARKED = ("message cannot be processed, parking it", "handler failed")  # "... <n> times, parking"

# The messages one order handles when nothing is short and nothing goes wrong, with the service
# that consumes each (services/intake/domain/saga.py; "consumes" in docs/ARCHITECTURE.md and each
# services/<name>/consumers.py). Aftersales and fulfillment handle nothing on this path.
HAPPY_PATH: tuple[tuple[str, str], ...] = (
    ("billing", "ReserveCredit"),  # place -> pending_review
    ("intake", "CreditReserved"),  # -> approved, sends ReserveStock
    ("inventory", "ReserveStock"),
    ("intake", "StockReserved"),  # -> ready_to_ship, sends CreateShipment
    ("logistics", "CreateShipment"),
    ("intake", "ShipmentCreated"),  # tracking number recorded
    ("intake", "ShipmentDispatched"),  # carrier picked_up -> shipped, sends CommitStock + IssueInvoice
    ("inventory", "CommitStock"),
    ("billing", "IssueInvoice"),
    ("intake", "StockCommitted"),
    ("intake", "InvoiceIssued"),
    ("intake", "ShipmentDelivered"),  # carrier delivered -> delivered; with the invoice -> completed
)
EXPECTED_HAPPY_PATH = len(HAPPY_PATH)  # 12

DEFAULT_WARN_FACTOR = 3.0


def warn_factor(default: float = DEFAULT_WARN_FACTOR) -> float:
    """``BENCH_MESSAGES_WARN_FACTOR`` (a positive number), else ``default``."""
    raw = os.environ.get("BENCH_MESSAGES_WARN_FACTOR", "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def parse_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects among ``lines``; anything else (tracebacks, a line cut by SIGKILL) is skipped."""
    for raw in lines:
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


@dataclass
class Counts:
    """Raw tallies: per order, a Counter of (service, type) over its "message handled" lines."""

    per_order: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    retried: int = 0
    parked: int = 0
    lines: int = 0  # JSON lines read

    def add(self, record: dict[str, Any]) -> None:
        self.lines += 1
        msg = record.get("msg")
        if not isinstance(msg, str):
            return
        if msg == HANDLED:
            order_id = record.get("order_id")
            if not isinstance(order_id, str) or not order_id:
                return
            key = (str(record.get("service", "?")), str(record.get("type", "?")))
            self.per_order.setdefault(order_id, Counter())[key] += 1
        elif msg.startswith(RETRIED):
            self.retried += 1
        elif msg.startswith(PARKED) and "parking" in msg:
            self.parked += 1


def count_records(records: Iterable[dict[str, Any]]) -> Counts:
    counts = Counts()
    for record in records:
        counts.add(record)
    return counts


def read_counts(paths: Iterable[Path]) -> Counts:
    """Count over the given log files (missing or unreadable ones are skipped)."""
    counts = Counts()
    for path in paths:
        try:
            with open(path, errors="replace") as handle:
                for record in parse_lines(handle):
                    counts.add(record)
        except OSError:
            continue
    return counts


def nearest_rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0


@dataclass
class Report:
    orders: int
    messages: int
    median: float
    p99: int
    max: int
    happy_path: float  # median over completed orders (or all orders), derived from the run
    happy_path_from: str  # "completed orders" | "all orders" | "expected"
    expected_happy_path: int
    factor: float
    threshold: float
    by_service: dict[str, int]
    by_type: dict[str, int]
    worst: list[dict[str, Any]]  # the orders with most messages, with per-type counts
    over: list[str]  # orders above factor x happy path, worst first
    retried: int
    parked: int
    missing: list[str]  # orders we were told about that handled no message at all

    @property
    def warning(self) -> bool:
        return bool(self.over)

    def lines(self) -> list[str]:
        out = [
            f"messages handled per order: median {self.median:g}, p99 {self.p99}, max {self.max} "
            f"(happy path {self.happy_path:g})",
            f"  {self.messages} messages over {self.orders} orders; happy path = median of "
            f"{self.happy_path_from}; expected {self.expected_happy_path} for an order with no shortage; "
            f"retried {self.retried}, parked {self.parked}",
            "  by service: " + ", ".join(f"{k} {v}" for k, v in self.by_service.items()),
        ]
        if self.happy_path != self.expected_happy_path:
            out.append(
                f"  note: the run's happy path ({self.happy_path:g}) differs from the expected "
                f"{self.expected_happy_path} (shortages, or work lost or repeated)"
            )
        if self.missing:
            out.append(f"  {len(self.missing)} orders handled no message: {', '.join(self.missing[:5])}")
        if self.over:
            over = set(self.over)
            named = ", ".join(
                f"{w['order_id']} ({w['messages']}: {_types(w['by_type'])})"
                for w in self.worst
                if w["order_id"] in over
            )
            out.append(
                f"WARNING: {len(self.over)} orders handled more than {self.factor:g} x the happy path "
                f"({self.threshold:g} messages); worst: {named}"
            )
        elif self.worst:
            out.append(f"  worst: {self.worst[0]['order_id']} ({self.worst[0]['messages']})")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "messages": self.messages,
            "per_order": {"median": self.median, "p99": self.p99, "max": self.max},
            "happy_path": self.happy_path,
            "happy_path_from": self.happy_path_from,
            "expected_happy_path": self.expected_happy_path,
            "warn_factor": self.factor,
            "warn_threshold": self.threshold,
            "warning": self.warning,
            "over_threshold": self.over,
            "by_service": self.by_service,
            "by_type": self.by_type,
            "worst": self.worst,
            "retried": self.retried,
            "parked": self.parked,
            "missing": self.missing,
        }


_HAPPY_TYPES = frozenset(t for _, t in HAPPY_PATH)


def _types(by_type: dict[str, int]) -> str:
    """What an order handled beyond the happy path (each of its types once): ``InvoiceIssued x3``."""
    extra = {t: n for t, n in by_type.items() if n > (1 if t in _HAPPY_TYPES else 0)}
    shown = extra or by_type
    return " ".join(f"{t} x{n}" for t, n in sorted(shown.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(
    counts: Counts,
    *,
    completed: Iterable[str] | None = None,
    placed: Iterable[str] | None = None,
    factor: float = DEFAULT_WARN_FACTOR,
    worst: int = 5,
) -> Report:
    """Figures per order; ``completed`` orders give the happy-path count, ``placed`` limits the
    orders considered (and names those that handled nothing)."""
    per_order = counts.per_order
    missing: list[str] = []
    if placed is not None:
        wanted = list(dict.fromkeys(placed))
        missing = [o for o in wanted if o not in per_order]
        per_order = {o: per_order[o] for o in wanted if o in per_order}
    totals = {o: sum(c.values()) for o, c in per_order.items()}
    values = list(totals.values())

    done = [totals[o] for o in dict.fromkeys(completed or ()) if o in totals]
    if done:
        happy, source = statistics.median(done), "completed orders"
    elif values:
        happy, source = statistics.median(values), "all orders"
    else:
        happy, source = float(EXPECTED_HAPPY_PATH), "expected"
    threshold = factor * happy

    by_service: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for c in per_order.values():
        for (service, type_), n in c.items():
            by_service[service] += n
            by_type[type_] += n
    ranked = sorted(totals, key=lambda o: (-totals[o], o))
    over = [o for o in ranked if totals[o] > threshold]
    shown = list(dict.fromkeys([*ranked[:worst], *over[:worst]]))
    worst_rows = []
    for o in shown:
        types: Counter[str] = Counter()
        for (_, type_), n in per_order[o].items():
            types[type_] += n
        worst_rows.append({"order_id": o, "messages": totals[o], "by_type": dict(sorted(types.items()))})

    return Report(
        orders=len(values),
        messages=sum(values),
        median=statistics.median(values) if values else 0,
        p99=nearest_rank(values, 99),
        max=max(values, default=0),
        happy_path=happy,
        happy_path_from=source,
        expected_happy_path=EXPECTED_HAPPY_PATH,
        factor=factor,
        threshold=threshold,
        by_service=dict(by_service.most_common()),
        by_type=dict(by_type.most_common()),
        worst=worst_rows,
        over=over,
        retried=counts.retried,
        parked=counts.parked,
        missing=missing,
    )


def total_handled(paths: Iterable[Path]) -> int:
    """How many "message handled" lines the files hold (to see when a run has gone quiet)."""
    return sum(sum(c.values()) for c in read_counts(paths).per_order.values())


async def settle(paths: list[Path], quiet_s: float = 1.5, within_s: float = 30) -> int:
    """Wait until no new message is handled for ``quiet_s`` (or ``within_s`` passed); returns the total."""
    deadline = time.monotonic() + within_s
    last, since = total_handled(paths), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = total_handled(paths)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last
