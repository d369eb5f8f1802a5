"""The pure parts of durable timers: what a scanner may claim, lateness, one id per timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from shared.contracts import DeadlinePassed, ReleaseStock
from shared.settings import ServiceSettings
from shared.timers import Timers, claimable, lateness_ms, timer_message_id

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


class IntakeLike(ServiceSettings):
    service_name: ClassVar[str] = DeadlinePassed.SERVICE


def test_a_scanner_claims_due_pending_timers_and_claims_whose_lease_ran_out():
    assert claimable(NOW) == {
        "$or": [
            {"state": "pending", "due_at": {"$lt": NOW}},
            {"state": "firing", "lease_until": {"$lt": NOW}},
        ]
    }


def test_the_claim_uses_strictly_before_so_a_timer_never_fires_early_on_either_store():
    # $lte compares whole seconds on the embedded store and would match a timer due later in the
    # same second; $lt only ever matches what is already due.
    conditions = claimable(NOW)["$or"]

    assert all("$lte" not in str(condition) for condition in conditions)


def test_lateness_is_the_time_between_due_and_fired_in_milliseconds():
    assert lateness_ms(NOW, NOW + timedelta(seconds=1, milliseconds=250)) == 1250
    assert lateness_ms(NOW, NOW) == 0


def test_lateness_reads_a_naive_due_time_as_utc_like_pymongo_does():
    naive = NOW.replace(tzinfo=None)

    assert lateness_ms(naive, NOW + timedelta(milliseconds=40)) == 40


def test_every_attempt_of_one_timer_publishes_under_the_same_message_id():
    first = timer_message_id("intake", "SO-1:confirmation")

    assert first == timer_message_id("intake", "SO-1:confirmation")
    assert first != timer_message_id("intake", "SO-1:payment")
    assert first != timer_message_id("aftersales", "SO-1:confirmation")


async def test_a_timer_refuses_a_message_for_another_service():
    timers = Timers(bus=None, collection=None, settings=IntakeLike())  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="service that scheduled it"):
        await timers.schedule("SO-1:release", NOW, ReleaseStock(order_id="SO-1"))


async def test_a_timer_refuses_a_due_time_without_a_timezone():
    timers = Timers(bus=None, collection=None, settings=IntakeLike())  # type: ignore[arg-type]
    message = DeadlinePassed(order_id="SO-1", timer="confirmation", due_at=NOW.isoformat())

    with pytest.raises(ValueError, match="timezone"):
        await timers.schedule("SO-1:confirmation", NOW.replace(tzinfo=None), message)
