"""Carrier and mode rules (R5.1): express by default, a dedicated vehicle for large orders,
carrier by destination region. Every value comes from settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

EXPRESS = "express"
DEDICATED_VEHICLE = "dedicated_vehicle"


@dataclass(frozen=True)
class Booking:
    carrier: str
    mode: str


@dataclass(frozen=True)
class CarrierRules:
    """``region_carriers`` maps an address prefix or province name to the express carrier serving it."""

    default_carrier: str
    dedicated_carrier: str
    dedicated_threshold: int  # fen; an order amount above it goes by dedicated vehicle
    region_carriers: Mapping[str, str] = field(default_factory=dict)

    def choose(self, amount: int, address: str) -> Booking:
        """Pick mode by order amount, then the carrier for that mode and destination."""
        if amount > self.dedicated_threshold:
            # Region carriers are parcel networks; a whole vehicle is booked from the freight carrier.
            return Booking(self.dedicated_carrier, DEDICATED_VEHICLE)
        return Booking(self.region_carrier(address) or self.default_carrier, EXPRESS)

    def region_carrier(self, address: str) -> str | None:
        """The carrier of the most specific region the address starts with or names."""
        normalized = address.strip().casefold()
        matches = [key for key in self.region_carriers if key.strip() and _names(normalized, key)]
        if not matches:
            return None
        return self.region_carriers[max(matches, key=len)]


def _names(address: str, region: str) -> bool:
    # Chinese addresses run province -> city -> street, so the region is the address's start;
    # English ones end with it as a separate part. A bare substring test would be wrong:
    # "浙江西湖区" contains "江西".
    key = region.strip().casefold()
    return address.startswith(key) or key in re.split(r"[,\uff0c\s]+", address)  # ASCII or full-width comma


def tracking_number(carrier: str, token: int) -> str:
    """Carrier code plus a 12-digit token, e.g. ``SF000123456789`` for SF Express."""
    first = carrier.split()[0] if carrier.split() else ""
    code = "".join(ch for ch in first if ch.isascii() and ch.isalnum()).upper()[:3] or "TRK"
    return f"{code}{token % 10**12:012d}"
