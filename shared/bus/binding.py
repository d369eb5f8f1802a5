"""Binding a service's ``CONSUMES`` table to its bus: the one way a handler gets its dependencies.

Every service's ``consumers.py`` is a table ``{MessageType: handler}`` whose handlers are
``async def handler(message, envelope, deps)`` (STYLE.md: named after what they handle).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from shared.bus.bus import Bus
from shared.contracts import Message
from shared.envelope import Envelope

D = TypeVar("D")
Handler = Callable[[Any, Envelope, D], Awaitable[None]]
Consumes = Mapping[type[Message], Handler[D]]


def subscribe_all(bus: Bus, consumes: Consumes[D], deps: D) -> None:
    """Route every message type of the table to its handler, called with ``deps``."""
    for message_type, handler in consumes.items():

        async def run(message: Any, envelope: Envelope, handler: Handler[D] = handler) -> None:
            await handler(message, envelope, deps)

        bus.subscribe(message_type, run)
