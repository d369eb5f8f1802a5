"""A store outage is never a message's fault (issue 9): it is retried, not counted, never parked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from shared.bus.delivery import ATTEMPTS_HEADER, Deliveries
from shared.errors import DependencyUnavailable


class Delivery:
    def __init__(self, attempts: int) -> None:
        self.headers: dict[str, Any] = {ATTEMPTS_HEADER: attempts} if attempts else {}
        self.acked = False
        self.routing_key = "evt.billing.CreditReserved"

    async def ack(self) -> None:
        self.acked = True


def deliveries(sent: list[tuple[str, dict[str, Any]]]) -> Deliveries:
    names = SimpleNamespace(retry=lambda ms: f"retry.{ms}", parked="parked", service="intake")
    settings = SimpleNamespace(max_attempts=3, retry_delays_ms=(100, 300, 600))
    out = Deliveries(SimpleNamespace(names=names, settings=settings))  # type: ignore[arg-type]

    async def send(queue: str, delivery: Any, headers: dict[str, Any]) -> None:
        sent.append((queue, headers))

    async def report(*_: Any) -> None:
        sent.append(("reported", {}))

    out._send_direct = send  # type: ignore[method-assign]
    out._report_parked = report  # type: ignore[method-assign]
    return out


@pytest.mark.parametrize(
    "outage", [ServerSelectionTimeoutError("no store"), AutoReconnect("reset"), DependencyUnavailable("down")]
)
async def test_an_outage_waits_at_the_longest_back_off_and_keeps_its_attempt_count(outage: Exception) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    delivery = Delivery(attempts=2)  # one more counted failure would park it

    await deliveries(sent)._retry_or_park(delivery, outage)  # type: ignore[arg-type]

    assert [queue for queue, _ in sent] == ["retry.600"] and delivery.acked
    assert sent[0][1][ATTEMPTS_HEADER] == 2


async def test_a_failing_handler_is_counted_and_parked_at_the_limit() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    await deliveries(sent)._retry_or_park(Delivery(attempts=2), ValueError("bug"))  # type: ignore[arg-type]

    assert [queue for queue, _ in sent] == ["parked", "reported"]
