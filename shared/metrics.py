"""Store round trips of this process, counted by a PyMongo command listener (issue 6 §4).

Nothing happens at import time. A service wires it in two places (``shared/service.py``):

    client = AsyncMongoClient(url, ..., **metrics.install({}))   # the client gets a listener
    app.include_router(metrics.router)                          # GET /ops/metrics

``install`` adds a fresh ``CommandCounter`` to the client's ``event_listeners`` and remembers
it; ``GET /ops/metrics`` answers the sum over every listener this process installed (a
restarted lifespan builds a new client; the counts stay monotonic, like any counter). Each
started command is one round trip to the store (``find``, ``update``, ``findAndModify``,
``insert``, ``getMore`` ...); the benchmark reads the counters before and after a phase and
divides the difference by the orders placed (``benches/saga_throughput.py``).

A listener runs inline on every command, so it only increments two counters.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from pymongo import monitoring

from shared.access.door import requires
from shared.access.roles import Permission


class CommandCounter(monitoring.CommandListener):
    """Per command name: how many were started, how many failed, and the time they took."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.micros: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.micros[event.command_name] += event.duration_micros

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.failures[event.command_name] += 1
        self.micros[event.command_name] += event.duration_micros


# The listeners this process installed (an empty list until a client is built).
_installed: list[CommandCounter] = []


def install(client_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``client_kwargs`` with a new counting listener appended to its ``event_listeners``."""
    listener = CommandCounter()
    _installed.append(listener)
    kwargs = dict(client_kwargs)
    kwargs["event_listeners"] = [*kwargs.get("event_listeners", ()), listener]
    return kwargs


def snapshot(listeners: list[CommandCounter] | None = None) -> dict[str, Any]:
    """The summed counts: ``{"pid", "store": {"round_trips", "failed", "commands", "failures", "ms"}}``."""
    commands: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    micros: Counter[str] = Counter()
    for listener in _installed if listeners is None else listeners:
        commands.update(listener.commands)
        failures.update(listener.failures)
        micros.update(listener.micros)
    return {
        "pid": os.getpid(),
        "store": {
            "round_trips": sum(commands.values()),
            "failed": sum(failures.values()),
            "commands": dict(sorted(commands.items())),
            "failures": dict(sorted(failures.items())),
            "ms": {name: round(us / 1000, 3) for name, us in sorted(micros.items())},
        },
    }


router = APIRouter(tags=["ops"])


@router.get("/ops/metrics", dependencies=[requires(Permission.OPS_READ)])
async def metrics() -> dict[str, Any]:
    """Round trips to the store since the process started, per command name (benchmarks read it)."""
    return snapshot()
