"""Issue 10's end-to-end bound: a few hundred orders shipped and invoiced while intake and billing
are SIGKILLed again and again; every order completes and none handles more than a small multiple of
the happy path's messages. Runs the fault run of ``benches/fault_run.py`` on its own stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from benches import fault_run, messages

ORDERS = 200
KILL_ROUNDS = 3
FACTOR = 3  # what the bench prints as a WARNING: more than 3 x the happy path per order


async def test_repeated_kills_of_intake_and_billing_while_invoicing_keep_messages_per_order_bounded(
    tmp_path: Path,
):
    args = argparse.Namespace(
        orders=ORDERS, kills=KILL_ROUNDS, concurrency=10, customers=10, deadline=300.0,
        kill_delay=0.5, down=1.0, out=tmp_path / "fault_run.json",
    )  # fmt: skip

    result, report = await fault_run.run(args)

    assert result["kill_rounds"] == KILL_ROUNDS
    assert result["statuses"] == {"completed": ORDERS}, result["not_finished_orders"]
    assert report.orders == ORDERS and not report.missing
    assert report.happy_path == messages.EXPECTED_HAPPY_PATH  # the typical order saw no extra message
    assert report.max <= FACTOR * messages.EXPECTED_HAPPY_PATH, report.worst
    assert report.messages <= ORDERS * messages.EXPECTED_HAPPY_PATH * 1.5, report.by_type
    assert report.parked == 0
    assert result["ledgers"] == {  # nothing still reserved, nothing shipped or invoiced twice
        "stock_reserved_left": 0, "stock_on_hand_wrong": [], "exposure_not_receivables": [],
    }  # fmt: skip
