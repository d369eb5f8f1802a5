"""Order numbers: `SO` + yyyymm + serial (R1.3), e.g. SO202405001."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

_PATTERN = re.compile(r"SO(\d{6})(\d{3,})")


def month_key(at: datetime, timezone: str = "Asia/Shanghai") -> str:
    """The yyyymm an order placed at `at` belongs to, in the business's own time zone.

    An order placed at 00:30 on 1 June in Shanghai is a June order although it is still May in
    UTC; the zone is a setting so the rule is explicit.
    """
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y%m")


def order_number(month: str, serial: int) -> str:
    """`SO` + month + serial zero-padded to three digits; serials past 999 simply grow longer."""
    if serial < 1:
        raise ValueError(f"serial must be positive, got {serial}")
    if not re.fullmatch(r"\d{6}", month):
        raise ValueError(f"month must be yyyymm, got {month!r}")
    return f"SO{month}{serial:03d}"


def parse_order_number(order_id: str) -> tuple[str, int] | None:
    """(yyyymm, serial) of a well-formed order number, else None."""
    match = _PATTERN.fullmatch(order_id)
    return (match.group(1), int(match.group(2))) if match else None
