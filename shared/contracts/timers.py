"""The message a durable timer sends when its deadline passes (shared.timers)."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.base import Command


class DeadlinePassed(Command):
    """A timer the order saga set came due (shared.timers): it checks what it waited for (R2.4, R9.4)."""

    SERVICE: ClassVar[str] = "intake"
    timer: str  # the purpose, the key's last part: "confirmation", "payment" ...
    due_at: str  # ISO 8601
