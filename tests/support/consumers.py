"""What each service consumes, read from the code the service runs: its ``consumers.py``.

``subscribe(bus, deps)`` is called with a bus that only records what is subscribed and a
placeholder for the dependencies (only captured by the handlers' closures, never used), so the
result is exactly what the service's queue would be bound to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from types import ModuleType
from typing import Any

from shared.contracts import Message


class RecordingBus:
    """Stands in for ``shared.bus.Bus`` in ``subscribe``: records (type, handler) in order."""

    def __init__(self) -> None:
        self.subscriptions: list[tuple[type[Message], Callable[..., Any]]] = []

    def subscribe(self, message_type: type[Message], handler: Callable[..., Any]) -> None:
        self.subscriptions.append((message_type, handler))


def consumers_module(service: str) -> ModuleType:
    return importlib.import_module(f"services.{service}.consumers")


def recorded_subscriptions(service: str) -> list[type[Message]]:
    """The message types the service's ``subscribe`` binds, in order (repeats kept)."""
    bus = RecordingBus()
    consumers_module(service).subscribe(bus, object())
    return [message_type for message_type, _ in bus.subscriptions]


def consumes_table(service: str) -> Mapping[type[Message], Callable[..., Any]] | None:
    """The service's ``CONSUMES`` table, or None when its consumers.py has none."""
    table = getattr(consumers_module(service), "CONSUMES", None)
    return table if isinstance(table, Mapping) else None


@cache
def consumed_types(service: str) -> frozenset[str]:
    """The names of the message types the service's queue is bound to."""
    return frozenset(t.type_name() for t in recorded_subscriptions(service))
