"""Store round trips are counted per command name by a PyMongo listener and served at /ops/metrics."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared import metrics
from shared.metrics import CommandCounter


def event(name: str, micros: int = 0) -> Any:
    """What the listener reads of PyMongo's started / succeeded / failed events."""
    return SimpleNamespace(command_name=name, duration_micros=micros)


def test_the_listener_counts_started_commands_and_their_time_per_name():
    counter = CommandCounter()
    for name in ("find", "find", "findAndModify", "update"):
        counter.started(event(name))
    counter.succeeded(event("find", 1_500))
    counter.succeeded(event("find", 500))
    counter.failed(event("update", 250))

    snap = metrics.snapshot([counter])["store"]
    assert snap["round_trips"] == 4
    assert snap["commands"] == {"find": 2, "findAndModify": 1, "update": 1}
    assert snap["failed"] == 1 and snap["failures"] == {"update": 1}
    assert snap["ms"] == {"find": 2.0, "update": 0.25}


def test_install_appends_a_listener_and_keeps_the_other_client_options():
    existing = CommandCounter()
    kwargs = metrics.install({"tz_aware": True, "event_listeners": [existing]})
    assert kwargs["tz_aware"] is True
    assert kwargs["event_listeners"][0] is existing
    added = kwargs["event_listeners"][1]
    assert isinstance(added, CommandCounter) and added is not existing
    assert metrics.install({})["event_listeners"][0] is not added  # one listener per client


def test_the_route_sums_every_listener_this_process_installed():
    app = FastAPI()
    app.include_router(metrics.router)
    for route in metrics.router.routes:  # the ops:read check is tested with the access matrix
        for dep in route.dependencies:  # type: ignore[attr-defined]
            app.dependency_overrides[dep.dependency] = lambda: None
    first = metrics.install({})["event_listeners"][0]
    second = metrics.install({})["event_listeners"][0]
    with TestClient(app) as client:
        before = client.get("/ops/metrics").json()["store"]
        first.started(event("insert"))
        second.started(event("insert"))
        second.started(event("getMore"))
        after = client.get("/ops/metrics").json()

    assert after["store"]["round_trips"] - before["round_trips"] == 3
    assert after["store"]["commands"]["insert"] - before["commands"].get("insert", 0) == 2
    assert isinstance(after["pid"], int)
