"""Document numbers: prefix + yyyymm + serial, the pattern of order numbers (R1.3) reused."""

from __future__ import annotations

from datetime import datetime

INVOICE_PREFIX = "INV"
CREDIT_NOTE_PREFIX = "CN"


def period_of(at: datetime) -> str:
    """The ``yyyymm`` period a serial counter runs in."""
    return f"{at.year:04d}{at.month:02d}"


def document_number(prefix: str, at: datetime, serial: int) -> str:
    """``INV202405001``: serials restart each month and widen past 999 instead of wrapping."""
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{prefix}{period_of(at)}{serial:03d}"
