"""The local run's simulated customer pays what an order waits for (devstack/simulator.py, issue 5)."""

from __future__ import annotations

import json

import httpx

from devstack.simulator import Simulator, SimulatorSettings

WAITING = {
    "order_id": "SO202612001",
    "status": "awaiting_payment",
    "awaiting": {"gate": "deposit", "before": "supply", "due": 9000, "outstanding": 9000},
}
CHECK = {"order_id": "SO202612002", "status": "awaiting_payment",
         "awaiting": {"gate": "lc_check", "before": "supply", "due": 0, "outstanding": 0}}  # fmt: skip


def test_the_simulated_customer_pays_the_outstanding_amount_once_after_the_delay() -> None:
    posted: list[tuple[str, dict]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posted.append((request.url.path, json.loads(request.content)))
            return httpx.Response(201, json={})
        if request.url.path == "/finance/awaiting-payment":
            return httpx.Response(200, json={"items": [WAITING, CHECK], "next_cursor": None})
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    now = [0.0]
    sim = Simulator(SimulatorSettings(payment_delay_s=5), httpx.Client(transport=httpx.MockTransport(answer)),
                    clock=lambda: now[0])  # fmt: skip
    sim.tick()
    assert posted == []  # not yet: the customer takes its time
    now[0] = 6.0
    sim.tick()
    sim.tick()

    assert posted == [("/payments", {"order_id": "SO202612001", "amount": 9000,
                                     "reference": "SIM-SO202612001-deposit"})]  # fmt: skip
