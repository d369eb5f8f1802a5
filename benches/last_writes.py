"""Benchmark: what the last-write cache's deep copy costs per read (``make bench``, issue 9).

``shared.aggregates.LastWrites`` hands out a deep copy of each document it keeps (pickle), so a
decision that is never saved cannot leak into the next reader. This prints, for an order document
as intake stores it at several saga stages (its history grows), the microseconds per read of
that copy beside a shallow copy (what it did before the fix, unsafe), ``copy.deepcopy``, and
turning the document into the domain's ``Order`` (``from_doc``, paid on every read anyway), so
the copy's share of a read can be judged. Prints figures only; nothing here asserts a time.

    python -m benches.last_writes --reads 2000
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from typing import Any

from services.intake.adapters import from_doc, to_fields
from shared.aggregates import _copy
from tests.unit.intake.builders import Builders

STAGES = ("pending_review", "supply_raised", "booked", "completed")


def per_read_us(work: Callable[[], Any], reads: int) -> float:
    start = time.perf_counter()
    for _ in range(reads):
        work()
    return (time.perf_counter() - start) / reads * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000, help="reads timed per figure")
    args = parser.parse_args(argv)
    make = Builders()
    print(f"last-write cache, per read of an intake order document ({args.reads} reads each, µs):")
    print(f"  {'stage':<16}{'fields':>7}{'history':>8}{'shallow':>9}{'pickle':>9}{'deepcopy':>10}"
          f"{'from_doc':>10}{'copy/read':>11}")  # fmt: skip
    for stage in STAGES:
        order = make.order(stage)
        doc = {**to_fields(order), "version": 7, "outbox": {}}
        shallow = per_read_us(lambda: dict(doc), args.reads)  # noqa: B023 - timed at once
        pickled = per_read_us(lambda: _copy(doc), args.reads)  # noqa: B023
        deep = per_read_us(lambda: copy.deepcopy(doc), args.reads)  # noqa: B023
        parse = per_read_us(lambda: from_doc(doc), args.reads)  # noqa: B023
        share = pickled / (pickled + parse)
        print(f"  {stage:<16}{len(doc):>7}{len(order.history):>8}{shallow:>9.1f}{pickled:>9.1f}"
              f"{deep:>10.1f}{parse:>10.1f}{share:>10.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
