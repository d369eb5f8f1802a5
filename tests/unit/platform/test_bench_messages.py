"""The benches count "message handled" log lines per order and warn about orders far over the happy path."""

from __future__ import annotations

import json
from pathlib import Path

from benches.messages import (
    EXPECTED_HAPPY_PATH,
    HAPPY_PATH,
    Counts,
    count_records,
    parse_lines,
    read_counts,
    summarize,
)


def handled(service: str, order_id: str, type_: str) -> str:
    return json.dumps({"at": "2026-01-01T00:00:00.000+00:00", "level": "info", "service": service,
                       "logger": "shared.bus.bus", "msg": "message handled", "order_id": order_id,
                       "message_id": "m", "type": type_, "ms": 1.2})  # fmt: skip


def happy(order_id: str) -> list[str]:
    return [handled(service, order_id, type_) for service, type_ in HAPPY_PATH]


def test_the_expected_happy_path_is_the_twelve_messages_of_an_order_with_no_shortage():
    assert EXPECTED_HAPPY_PATH == 12
    assert sum(1 for service, _ in HAPPY_PATH if service == "intake") == 7


def test_lines_that_are_not_json_objects_are_skipped():
    lines = ["Traceback (most recent call last):", '{"msg": "message handled", "order_id": "SO1"', "[1, 2]",
             "", '  {"msg": "x"}  ']  # fmt: skip

    assert list(parse_lines(lines)) == [{"msg": "x"}]


def test_counts_per_order_service_and_type_and_the_happy_path_comes_from_completed_orders(tmp_path: Path):
    storm = [handled("intake", "SO3", "ShipmentDispatched")] * 30  # a redelivery storm on one order
    noise = ["not json", handled("intake", "", "X"), json.dumps({"msg": "service started"}),
             json.dumps({"msg": "handler failed, retrying in 100 ms", "order_id": "SO3"})]  # fmt: skip
    lines = [*happy("SO1"), *happy("SO2"), *happy("SO3"), *storm, *noise]
    (tmp_path / "intake.log").write_text("\n".join(lines))

    counts = read_counts([tmp_path / "intake.log", tmp_path / "missing.log"])
    report = summarize(counts, completed=["SO1", "SO2"], placed=["SO1", "SO2", "SO3", "SO4"], factor=2)

    assert (report.orders, report.messages) == (3, 12 * 3 + 30)
    assert (report.median, report.max, report.happy_path) == (12, 42, 12)
    assert report.happy_path_from == "completed orders"
    assert report.by_service == {"intake": 7 * 3 + 30, "billing": 6, "inventory": 6, "logistics": 3}
    assert report.by_type["ShipmentDispatched"] == 33 and report.by_type["ReserveCredit"] == 3
    by_type = {t: 31 if t == "ShipmentDispatched" else 1 for _, t in HAPPY_PATH}
    assert report.worst[0] == {"order_id": "SO3", "messages": 42, "by_type": by_type}
    assert report.missing == ["SO4"] and report.retried == 1
    assert report.warning and report.over == ["SO3"] and report.threshold == 24
    warning = [line for line in report.lines() if line.startswith("WARNING:")]
    assert len(warning) == 1 and "worst: SO3 (42: ShipmentDispatched x31)" in warning[0]
    assert report.lines()[0] == "messages handled per order: median 12, p99 42, max 42 (happy path 12)"


def test_no_warning_while_every_order_stays_within_the_factor():
    lines = [*happy("SO1"), *happy("SO2"), handled("intake", "SO2", "ShipmentDispatched")]
    report = summarize(read_counts_from(lines), completed=["SO1", "SO2"], factor=3)

    assert (report.orders, report.max, report.happy_path) == (2, 13, 12.5)
    assert not report.warning
    assert not [line for line in report.lines() if "WARNING" in line]


def test_without_completed_orders_the_median_of_all_orders_is_the_happy_path():
    report = summarize(read_counts_from(happy("SO1")[:5]))

    assert (report.happy_path, report.happy_path_from, report.expected_happy_path) == (5, "all orders", 12)


def read_counts_from(lines: list[str]) -> Counts:
    return count_records(parse_lines(lines))
