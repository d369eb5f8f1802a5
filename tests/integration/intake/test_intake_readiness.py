"""Intake's /ready reports the services it asks at the door (inventory, billing), as real processes.

Intake cannot take an order without the catalogue and the customer, so a load balancer must stop
sending it orders while either cannot be reached - and send them again once it can.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def door_stack(make_stack: Callable[..., Stack]) -> Stack:
    """Intake with the real inventory and billing it calls at the door (not the fake door)."""
    return make_stack("inventory", "billing", "intake")


async def ready_when(
    api: httpx.AsyncClient, condition: Callable[[httpx.Response], bool], within_s: float = 20
) -> httpx.Response:
    """Poll intake's /ready until ``condition`` holds for its answer; fail with the last one."""
    deadline = time.monotonic() + within_s
    while True:
        response = await api.get("/ready")
        if condition(response):
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"/ready never matched; last answer {response.status_code} {response.text}")
        await asyncio.sleep(0.2)


def ready(response: httpx.Response) -> bool:
    return response.status_code == 200


def not_ready_because(dependency: str) -> Callable[[httpx.Response], bool]:
    def check(response: httpx.Response) -> bool:
        return response.status_code == 503 and response.json()["checks"].get(dependency) is False

    return check


def checks(response: httpx.Response) -> dict[str, Any]:
    return response.json()["checks"]  # type: ignore[no-any-return]


async def test_ready_turns_503_while_inventory_is_down_and_recovers_when_it_is_back(door_stack):
    async with door_stack.client("intake") as api:
        before = await ready_when(api, ready)
        assert before.json()["status"] == "ready"
        assert checks(before) == {"broker": True, "store": True, "inventory": True, "billing": True}

        door_stack.procs["inventory"].stop(grace_s=10)
        down = await ready_when(api, not_ready_because("inventory"))

        assert down.json()["error"]["code"] == "not_ready"
        assert "inventory" in down.json()["error"]["message"]
        assert checks(down) == {"broker": True, "store": True, "inventory": False, "billing": True}

        door_stack.start(["inventory"])  # same port, so intake finds it where it was
        after = await ready_when(api, ready)
        assert checks(after)["inventory"] is True


async def test_ready_does_not_hang_on_a_dependency_that_accepts_but_never_answers(door_stack):
    billing = door_stack.procs["billing"].popen
    async with door_stack.client("intake") as api:
        await ready_when(api, ready)
        os.kill(billing.pid, signal.SIGSTOP)  # frozen: connections are accepted, nothing answers
        try:
            began = time.monotonic()
            frozen = await api.get("/ready")
            took = time.monotonic() - began
        finally:
            os.kill(billing.pid, signal.SIGCONT)

        assert frozen.status_code == 503 and checks(frozen)["billing"] is False
        assert took < 5  # the probe's own timeout (HTTP_PROBE_TIMEOUT_S, 2 s), not the client's
        await ready_when(api, ready)
