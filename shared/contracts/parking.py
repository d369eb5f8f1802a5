"""What the bus reports when a service parks a message (shared/bus/delivery.py), so the order it
belongs to is visible as stuck instead of silently waiting (issue 7)."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import Command


class MessageParked(Command):
    """A service parked a message of this order after its last attempt: intake marks the order stuck."""

    SERVICE: ClassVar[str] = "intake"  # addressed to the saga's owner, sent by whichever service parked
    message_id: str  # of the parked message: replaying it (or its reply arriving) clears the mark
    message_type: str
    service: str  # whose parking queue holds it: <prefix>.<service>.parked
    error: str
    attempts: int = 1
