"""What a return remembers about each step: the history (R9.3) and the inspection verdict (R8.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One traceable step (R9.3): when, what happened, the state it led to, who did it and why."""

    at: datetime
    event: str
    status: str
    by: str
    reason: str = ""


@dataclass(frozen=True)
class Inspection:
    result: str  # "pass" | "fail"
    by: str
    at: datetime
    note: str = ""
