"""Return numbers: ``RT`` + ``yyyymm`` + serial, like order numbers (R1.3), e.g. ``RT202405001``."""

from __future__ import annotations

from datetime import datetime


def format_return_id(at: datetime, serial: int) -> str:
    """The return number for the ``serial``-th return of the month of ``at`` (serials from a counter)."""
    return f"RT{at:%Y%m}{serial:03d}"


def counter_key(at: datetime) -> str:
    """Serials restart each month: one counter per ``yyyymm``."""
    return f"returns:{at:%Y%m}"
